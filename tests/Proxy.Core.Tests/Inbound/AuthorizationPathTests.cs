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
}
