using Proxy.Tls;

namespace Proxy.Tests.Tls;

public sealed class SpiffeIdTests
{
    [Theory]
    [InlineData("spiffe://mesh.local/ns/shop/sa/web", "mesh.local", "/ns/shop/sa/web")]
    [InlineData("spiffe://example.org", "example.org", "")]
    [InlineData("spiffe://a-b_c.9/Path.With-Caps_1", "a-b_c.9", "/Path.With-Caps_1")]
    public void TryParse_Valid_SplitsTrustDomainAndPath(string text, string domain, string path)
    {
        Assert.True(SpiffeId.TryParse(text, out var id, out var error), error);
        Assert.Equal(domain, id.TrustDomain);
        Assert.Equal(path, id.Path);
        Assert.Equal(text, id.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://mesh.local/x")]
    [InlineData("SPIFFE://mesh.local/x")]
    [InlineData("spiffe://")]
    [InlineData("spiffe:///path")]
    [InlineData("spiffe://Mesh.local/x")]
    [InlineData("spiffe://mesh.local:8080/x")]
    [InlineData("spiffe://user@mesh.local/x")]
    [InlineData("spiffe://mesh.local/")]
    [InlineData("spiffe://mesh.local/a//b")]
    [InlineData("spiffe://mesh.local/a/./b")]
    [InlineData("spiffe://mesh.local/a/../b")]
    [InlineData("spiffe://mesh.local/a?x=1")]
    [InlineData("spiffe://mesh.local/a#f")]
    [InlineData("spiffe://mesh.local/a%20b")]
    public void TryParse_Invalid_ReturnsError(string text)
    {
        Assert.False(SpiffeId.TryParse(text, out var id, out var error));
        Assert.Null(id);
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Fact]
    public void TryParse_TooLong_ReturnsError()
    {
        var text = "spiffe://mesh.local/" + new string('a', SpiffeId.MaxLength);
        Assert.False(SpiffeId.TryParse(text, out _, out _));
    }

    [Fact]
    public void FromCertificate_IssuedWorkloadCertificate_ReturnsUriSan()
    {
        using var ca = CertificateAuthority.Create("test mesh CA", TimeSpan.FromDays(1));
        var id = SpiffeId.Parse("spiffe://mesh.local/ns/shop/sa/web");
        using var workload = ca.Issue(id, TimeSpan.FromHours(1), ["web.local"]);
        Assert.Equal(id, SpiffeId.FromCertificate(workload.Certificate));
    }

    [Fact]
    public void FromCertificate_CaWithoutUriSan_ReturnsNull()
    {
        using var ca = CertificateAuthority.Create("test mesh CA", TimeSpan.FromDays(1));
        Assert.Null(SpiffeId.FromCertificate(ca.Certificate));
    }

    [Fact]
    public void Equals_SameValue_EqualAndSameHash()
    {
        var a = SpiffeId.Parse("spiffe://d/x");
        var b = SpiffeId.Parse("spiffe://d/x");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, SpiffeId.Parse("spiffe://d/y"));
    }
}
