using System.Text;
using Proxy.Inbound;

namespace Proxy.Tests.Inbound;

public sealed class AuthorizationPathTests
{
    [Theory]
    [InlineData("/", "/")]
    [InlineData("/admin", "/admin")]
    [InlineData("/admin?x=/../y#frag", "/admin")]
    [InlineData("/public/../admin", "/admin")]
    [InlineData("/public/%2e%2e/admin", "/admin")] // escaped dots are dots (unreserved, RFC 3986 2.3) before 5.2.4
    [InlineData("/./admin/.", "/admin/")]
    [InlineData("/a/b/..", "/a/")]
    [InlineData("/../../admin", "/admin")] // never above the root
    [InlineData("//admin///users", "/admin/users")]
    [InlineData("/%61dmin", "/admin")]
    [InlineData("/%7Euser/%41", "/~user/A")]
    [InlineData("/admin%2fkeys", "/admin%2Fkeys")] // an escaped slash is data, not a separator: kept, hex in upper case
    [InlineData("/a%20b", "/a%20b")]
    [InlineData("/a.b/..c/...", "/a.b/..c/...")] // only whole "." and ".." segments are dot segments
    [InlineData("/..", "/")]
    [InlineData("/.", "/")]
    [InlineData("//", "/")]
    [InlineData("/a//", "/a/")]
    [InlineData("/a/./b/../../c/", "/c/")]
    [InlineData("/a/%2E%2e", "/")]
    [InlineData("///a/b/../../..//c", "/c")]
    public void Normalize_OriginForm_RemovesWhatAppsIgnore(string target, string expected) =>
        Assert.Equal(expected, AuthorizationPath.Normalize(Encoding.ASCII.GetBytes(target)));

    [Theory]
    [InlineData("")]
    [InlineData("*")]
    [InlineData("example.com:443")]
    [InlineData("/bad%zzescape")]
    [InlineData("/cut%4")]
    public void Normalize_NoPathOrInvalidEscape_Null(string target) =>
        Assert.Null(AuthorizationPath.Normalize(Encoding.ASCII.GetBytes(target)));

    [Fact]
    public void TryNormalize_And_EvaluateRequest_AllocateNothing()
    {
        // Every inbound mesh request is judged: the decision must not allocate (the filter normalizes on the stack).
        var policy = new AuthorizationPolicy([
            new Proxy.Configuration.AuthorizationRuleConfig { Action = Proxy.Configuration.AuthorizationAction.Deny, Paths = new Proxy.Configuration.ConfigList<string>(["/admin"]) },
            new Proxy.Configuration.AuthorizationRuleConfig { Action = Proxy.Configuration.AuthorizationAction.Allow, Methods = new Proxy.Configuration.ConfigList<string>(["GET"]) },
        ]);
        var peer = Proxy.Tls.PeerIdentity.None(Proxy.Tls.NoTlsReason.Plaintext);
        var target = "/public/../%61dmin//keys?x=1"u8.ToArray();
        Span<byte> path = stackalloc byte[64];
        Assert.Equal(AuthorizationDecision.Deny, Judge(path)); // warm up, and the decision is right
        long before = GC.GetAllocatedBytesForCurrentThread();
        var denied = 0;
        for (var i = 0; i < 1000; i++)
        {
            denied += Judge(path) == AuthorizationDecision.Deny ? 1 : 0;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1000, denied);

        AuthorizationDecision Judge(Span<byte> buffer) =>
            AuthorizationPath.TryNormalize(target, buffer, out var length)
                ? policy.EvaluateRequest(peer, 80, "GET"u8, buffer[..length], pathKnown: true)
                : AuthorizationDecision.Allow;
    }
}
