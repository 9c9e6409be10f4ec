using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Envoy.Config.Listener.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary with one listener from the scripted management server that has several filter chains, chosen
/// per connection: TLS with SNI a.example (passed through to cluster A), plain HTTP (routes over RDS), other plain
/// bytes (cluster B), and a default chain for the rest (cluster C).
/// </summary>
public class XdsFilterChainBinaryTests
{
    private static string Config(int adminPort, ScriptedAdsServer server) => $$"""
        admin: { address: 127.0.0.1:{{adminPort}} }
        xds:
          server: {{server.Address}}
          node: { id: binary-chains, cluster: edge }
          resources: [ clusters, endpoints, listeners, routes ]
        """;

    internal static FilterChain TcpChain(string name, FilterChainMatch? match, string cluster) =>
        new() { Name = name, FilterChainMatch = match, Filters = { TcpListener("x", 1, cluster).FilterChains[0].Filters[0] } };

    /// <summary>The first bytes a real TLS client sends (its ClientHello) for <paramref name="sni"/>, captured on loopback.</summary>
    internal static async Task<byte[]> ClientHelloAsync(string sni)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        using var accepted = await listener.AcceptAsync();
        var tls = new SslStream(new NetworkStream(client, ownsSocket: false), false, static (_, _, _, _) => true);
        _ = tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = sni }).ContinueWith(static t => t.Exception, TaskScheduler.Default);
        var buffer = new byte[16 * 1024];
        var length = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (length < 5 || length < 5 + ((buffer[3] << 8) | buffer[4]))
        {
            length += await accepted.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, deadline.Token);
        }

        return buffer[..length];
    }

    [SkippableFact]
    public async Task OneListener_ChainsBySniTransportAndAlpn_AndADefault()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var a = TcpUpstream.Named("a");
        await using var b = TcpUpstream.Named("b");
        await using var c = TcpUpstream.Named("c");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var server = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), port = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync(Config(adminPort, server), adminPort);

        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1",
            XdsResources.StaticCluster("A", a.Address), XdsResources.StaticCluster("B", b.Address),
            XdsResources.StaticCluster("C", c.Address), XdsResources.StaticCluster("web", web.Address));

        var listener = TcpListener("mixed", port, "unused");
        listener.FilterChains.Clear();
        listener.FilterChains.Add(TcpChain("tls-a", new FilterChainMatch { TransportProtocol = "tls", ServerNames = { "a.example" } }, "A"));
        var http = HttpListener("x", 1, "chain-routes").FilterChains[0];
        http.Name = "http";
        http.FilterChainMatch = new FilterChainMatch { TransportProtocol = "raw_buffer", ApplicationProtocols = { "http/1.1", "h2c" } };
        listener.FilterChains.Add(http);
        listener.FilterChains.Add(TcpChain("plain", new FilterChainMatch { TransportProtocol = "raw_buffer" }, "B"));
        listener.DefaultFilterChain = TcpChain("rest", null, "C");
        listener.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.tls_inspector" });
        listener.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.http_inspector" });
        await session.SendAsync(XdsTypeUrls.Listener, "l1", listener);
        Assert.Empty((await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");
        Assert.Equal(["chain-routes"], (await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration)).ResourceNames);
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r1", Routes("chain-routes", Prefix("/", "web")));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);

        // Plain HTTP: the HTTP chain, its routes from RDS.
        using var client = new HttpClient();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                return await client.GetStringAsync($"http://127.0.0.1:{port}/hello") == "hello from web";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }));

        // TLS for a.example: cluster A gets the whole ClientHello (peeked, not consumed), byte for byte.
        var hello = await ClientHelloAsync("a.example");
        using (var tls = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await tls.SendAsync(hello, SocketFlags.None);
            Assert.Equal("a", await tls.ReadLineAsync());
            var echoed = new byte[hello.Length];
            var got = 0;
            while (got < echoed.Length)
            {
                got += await tls.ReceiveAsync(echoed.AsMemory(got), SocketFlags.None);
            }

            Assert.Equal(hello, echoed);
        }

        // Other plain bytes: cluster B. TLS for another name: no chain, so the default chain (C).
        using (var plain = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await plain.SendAsync("\u0001binary-ish\n");
            Assert.Equal("b", await plain.ReadLineAsync());
        }

        using (var other = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            await other.SendAsync(await ClientHelloAsync("b.example"), SocketFlags.None);
            Assert.Equal("c", await other.ReadLineAsync());
        }

        Assert.Equal(1, await proxy.MetricAsync("proxy_listener_connections_opened_total{listener=\"mixed/tls-a\"}"));
        Assert.Equal(1, await proxy.MetricAsync("proxy_listener_connections_opened_total{listener=\"mixed/default_filter_chain\"}"));

        // Without the default chain, a connection that no chain takes is closed and counted.
        listener.DefaultFilterChain = null;
        await session.SendAsync(XdsTypeUrls.Listener, "l2", listener);
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            using var closed = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            await closed.SendAsync(await ClientHelloAsync("b.example"), SocketFlags.None);
            try
            {
                return await closed.ReadToEndAsync(TimeSpan.FromSeconds(10)) == "";
            }
            catch (SocketException)
            {
                return true; // reset: closed too
            }
        }));
        Assert.True(await proxy.MetricAsync("proxy_listener_no_filter_chain_total{listener=\"mixed\"}") >= 1);
    }

    [SkippableFact]
    public async Task OriginalDstClusters_ConnectToTheConnectionsDestination_WithTheOverriddenPort()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var tcp = TcpUpstream.Named("tcp upstream");
        await using var web = await KestrelUpstream.StartAsync("web");
        await using var server = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), tcpPort = TcpClientHelpers.UnusedPort(), httpPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync(Config(adminPort, server), adminPort);

        // Without interception a connection's original destination is the address it was accepted on; the clusters keep
        // that address and swap in their upstream's port, as Istio's inbound clusters do with upstream_port_override.
        static Envoy.Config.Cluster.V3.Cluster OriginalDst(string name, int port) => new()
        {
            Name = name,
            Type = Envoy.Config.Cluster.V3.Cluster.Types.DiscoveryType.OriginalDst,
            LbPolicy = Envoy.Config.Cluster.V3.Cluster.Types.LbPolicy.ClusterProvided,
            OriginalDstLbConfig = new Envoy.Config.Cluster.V3.Cluster.Types.OriginalDstLbConfig { UpstreamPortOverride = (uint)port },
        };

        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1", OriginalDst("inbound|tcp||", tcp.Port), OriginalDst("inbound|http||", web.Port));
        var tcpListener = TcpListener("tcp", tcpPort, "inbound|tcp||");
        tcpListener.Address.SocketAddress.Address = "0.0.0.0";
        var httpListener = InlineHttpListener("http", httpPort, Routes("http-routes", Prefix("/", "inbound|http||")));
        httpListener.Address.SocketAddress.Address = "0.0.0.0";
        await session.SendAsync(XdsTypeUrls.Listener, "l1", tcpListener, httpListener);
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");

        using var client = new HttpClient();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                return await client.GetStringAsync($"http://127.0.0.1:{httpPort}/hello") == "hello from web";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }));
        Assert.Equal("hello from web", await client.GetStringAsync($"http://127.0.0.1:{httpPort}/hello"));

        using var connection = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, tcpPort));
        Assert.Equal("tcp upstream", await connection.ReadLineAsync());
        await connection.SendAsync("echo me\n");
        Assert.Equal("echo me", await connection.ReadLineAsync());
    }

    [SkippableFact]
    public async Task UseOriginalDst_HandsTheConnectionToTheListenerOfItsDestination_ElseItsOwnChains()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var server = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), port = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync(Config(adminPort, server), adminPort);

        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1");

        // virtualOutbound binds 0.0.0.0:port; a listener that does not bind holds 127.0.0.1:port. A connection that was
        // not redirected has the accepted address as its original destination: to 127.0.0.1 it is handed over; to
        // 127.0.0.2 (also loopback) no listener holds it, so virtualOutbound's own (passthrough) chain answers.
        var outbound = XdsOriginalDstNamespaceTests.Chained("virtualOutbound", "0.0.0.0", port, XdsOriginalDstNamespaceTests.Answer("passthrough", null, "passthrough"));
        outbound.UseOriginalDst = true;
        var target = XdsOriginalDstNamespaceTests.Chained("127.0.0.1_port", "127.0.0.1", port,
            XdsOriginalDstNamespaceTests.Answer("by-name", new FilterChainMatch { DestinationPort = (uint)port, PrefixRanges = { new Envoy.Config.Core.V3.CidrRange { AddressPrefix = "127.0.0.1", PrefixLen = 32 } } }, "handed over"),
            XdsOriginalDstNamespaceTests.Answer("other", new FilterChainMatch { DestinationPort = 1 }, "wrong chain"));
        target.BindToPort = false;
        await session.SendAsync(XdsTypeUrls.Listener, "l1", outbound, target);
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");

        using var client = new HttpClient();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                return await client.GetStringAsync($"http://127.0.0.1:{port}/") == "handed over";
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }));
        Assert.Equal("passthrough", await client.GetStringAsync($"http://127.0.0.2:{port}/"));
        Assert.Equal(1, await proxy.MetricAsync("proxy_listener_connections_opened_total{listener=\"127.0.0.1_port/by-name\"}"));

        // The listener that does not bind holds no socket, and shows in /config_dump.
        var dump = (await proxy.Admin.GetAsync("/config_dump")).Body;
        Assert.Contains("\"127.0.0.1_port\"", dump);
        Assert.Contains("\"bind_to_port\": false", dump);

        // virtualOutbound turned into a listener that does not bind: its socket closes.
        outbound.BindToPort = false;
        outbound.UseOriginalDst = false;
        await session.SendAsync(XdsTypeUrls.Listener, "l2", outbound, target);
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                using var probe = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        }));
    }
}
