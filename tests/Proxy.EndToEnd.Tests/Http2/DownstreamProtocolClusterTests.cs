using Microsoft.AspNetCore.Server.Kestrel.Core;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// A <c>protocol: downstream</c> cluster (Envoy's use_downstream_protocol_config, on Istio's passthrough and inbound
/// clusters) sends each request in the client's own HTTP version. The upstreams speak one version each (Kestrel
/// HTTP/1.1 only, or h2c only), so a request in the other version would fail.
/// </summary>
public sealed class DownstreamProtocolClusterTests
{
    [Theory]
    [InlineData("h1", "HTTP/1.1")]
    [InlineData("h2", "HTTP/2")]
    public async Task DownstreamProtocolCluster_SendsTheClientsOwnVersion(string downstream, string expected)
    {
        await using var upstream = await KestrelUpstream.StartAsync("app", downstream == "h2" ? HttpProtocols.Http2 : HttpProtocols.Http1);
        await using var proxy = await RunningProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                protocol: http
                routes:
                  - { match: { path_prefix: / }, cluster: follow }
            clusters:
              - { name: follow, protocol: downstream, endpoints: [ {{upstream.Address}} ] }
            """);
        using var client = Http2ProxyTests.Client(proxy, downstream);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(expected, await client.GetStringAsync("/protocol"));
        }
    }

    [Fact]
    public void DownstreamProtocol_WithTls_IsRefusedSayingWhy()
    {
        var result = Proxy.Configuration.ConfigLoader.LoadText("""
            listeners:
              - { name: web, address: 127.0.0.1:0, routes: [ { match: { path_prefix: / }, cluster: c } ] }
            clusters:
              - { name: c, protocol: downstream, tls: { sni: app.local }, endpoints: [ 127.0.0.1:9 ] }
            """, "test.yaml");
        Assert.Contains(result.Errors, e => e.Message.Contains("protocol: downstream is for plain-text endpoints; with tls, choose http1 or http2", StringComparison.Ordinal));
    }
}
