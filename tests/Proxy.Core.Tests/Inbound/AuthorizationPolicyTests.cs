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

    [Fact]
    public void Evaluate_UnknownMethodOrPath_HoldsForDenyFailsForAllow()
    {
        // HTTP sent late or in a framing the proxy cannot read is judged as TCP: a deny rule's HTTP conditions hold
        // (on its ports), an allow rule's fail. What cannot be seen never grants access and never escapes a denial.
        var policy = new AuthorizationPolicy(
        [
            new AuthorizationRuleConfig { Action = AuthorizationAction.Deny, Ports = [8080], Paths = ["/admin"] },
            new AuthorizationRuleConfig { Action = AuthorizationAction.Allow, Ports = [9090], Methods = ["GET"] },
            new AuthorizationRuleConfig { Action = AuthorizationAction.Allow, Ports = [8080, 2525] },
        ]);
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Web, 8080, null, null));
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Web, 8080, "GET", null));
        Assert.Equal(AuthorizationDecision.Allow, policy.Evaluate(Web, 8080, "GET", "/public"));
        Assert.Equal(AuthorizationDecision.Allow, policy.Evaluate(Web, 2525, null, null)); // the deny rule names other ports
        Assert.Equal(AuthorizationDecision.Deny, policy.Evaluate(Web, 9090, null, null));
        Assert.Equal(AuthorizationDecision.Allow, policy.Evaluate(Web, 9090, "GET", "/"));
    }
}
