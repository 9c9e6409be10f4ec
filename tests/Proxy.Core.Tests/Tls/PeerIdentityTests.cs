using Proxy.Tls;

namespace Proxy.Tests.Tls;

public sealed class PeerIdentityTests
{
    [Fact]
    public void Authenticated_HasIdAndMutualTlsPolicy()
    {
        var peer = PeerIdentity.Authenticated(SpiffeId.Parse("spiffe://d/a"));
        Assert.True(peer.IsAuthenticated);
        Assert.Equal("mutual_tls", peer.SecurityPolicy);
        Assert.Equal("spiffe://d/a", peer.Principal);
    }

    [Theory]
    [InlineData(NoTlsReason.Plaintext)]
    [InlineData(NoTlsReason.DetectTimeout)]
    [InlineData(NoTlsReason.OpaquePort)]
    public void None_CarriesReasonAndIsShared(NoTlsReason reason)
    {
        var peer = PeerIdentity.None(reason);
        Assert.False(peer.IsAuthenticated);
        Assert.Equal(reason, peer.Reason);
        Assert.Equal("none", peer.SecurityPolicy);
        Assert.Equal("unknown", peer.Principal);
        Assert.Same(peer, PeerIdentity.None(reason));
    }
}
