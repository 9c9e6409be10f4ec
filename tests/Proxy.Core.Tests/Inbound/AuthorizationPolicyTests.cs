using Proxy.Configuration;
using Proxy.Inbound;
using Proxy.Tls;

namespace Proxy.Tests.Inbound;

public sealed class AuthorizationPolicyTests
{
    private static readonly PeerIdentity Web = PeerIdentity.Authenticated(SpiffeId.Parse("spiffe://mesh.local/ns/shop/sa/web"));
    private static readonly PeerIdentity Other = PeerIdentity.Authenticated(SpiffeId.Parse("spiffe://mesh.local/ns/shop/sa/other"));

    [Fact]
    public void Evaluate_NoRules_Allows() =>
        Assert.Equal(AuthorizationDecision.Allow, new AuthorizationPolicy([]).Evaluate(PeerIdentity.None(NoTlsReason.Plaintext), 80, null, null));

    [Fact]
    public void Evaluate_AllowByPrincipalPortMethod_OthersDenied()
    {
        var policy = new AuthorizationPolicy([new AuthorizationRuleConfig { Action = AuthorizationAction.Allow, Principals = ["spiffe://mesh.local/ns/shop/sa/web"], Ports = [8080], Methods = ["GET"] }]);
        Assert.True(policy.NeedsHttp);
        Assert.Equal(AuthorizationDecision.Allow, policy.Evaluate(Web, 8080, "GET", "/"));
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Web, 8080, "POST", "/"));
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Web, 9090, "GET", "/"));
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Other, 8080, "GET", "/"));
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(PeerIdentity.None(NoTlsReason.Plaintext), 8080, "GET", "/"));
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Web, 8080, null, null)); // TCP never matches a method rule
    }

    [Fact]
    public void Evaluate_DenyPathThenAllowAny_FirstMatchWins()
    {
        var policy = new AuthorizationPolicy(
        [
            new AuthorizationRuleConfig { Action = AuthorizationAction.Deny, Paths = ["/admin"] },
            new AuthorizationRuleConfig { Action = AuthorizationAction.Allow, Principals = ["*"] },
        ]);
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Web, 80, "GET", "/admin/users"));
        Assert.Equal(AuthorizationDecision.Allow, policy.Evaluate(Web, 80, "GET", "/public"));
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(PeerIdentity.None(NoTlsReason.Plaintext), 80, "GET", "/public"));
    }
}
