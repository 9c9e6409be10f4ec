using System.Net;
using System.Net.Sockets;
using Envoy.Config.Route.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// LDS and RDS against the scripted management server, with the proxy in-process: listeners by wildcard, route
/// configurations by the names the listeners give, warming, deletion by omission (listeners) and not (routes), NACKs
/// with the sentence, the initial fetch timeout, and listeners beside the file's.
/// </summary>
public class XdsListenerProtocolTests
{
    private static string Config(ScriptedAdsServer server, string fileListeners = "", string extra = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        {{fileListeners}}
        xds:
          server: {{server.Address}}
          node: { id: lds-node, cluster: edge }
          resources: [ clusters, endpoints, listeners, routes ]
        {{extra}}
        """;

    private static async Task<string> GetAsync(HttpClient client, IPEndPoint address, string path = "/hello")
    {
        using var response = await client.GetAsync($"http://{address}{path}");
        return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
    }

    /// <summary>
    /// The proxy's first two requests on a new stream, CDS then LDS (both wildcards, Envoy's order); then a STATIC cluster
    /// "backend" at <paramref name="upstream"/>, ACKed.
    /// </summary>
    private static async Task<AdsSession> ClustersAsync(ScriptedAdsServer server, string upstream)
    {
        var session = await server.NextSessionAsync();
        Assert.Equal(XdsTypeUrls.Cluster, (await session.NextRequestAsync()).TypeUrl);
        var lds = await session.NextRequestAsync();
        Assert.Equal(XdsTypeUrls.Listener, lds.TypeUrl);
        Assert.Empty(lds.ResourceNames); // wildcard
        await session.SendClustersAsync("c1", XdsResources.StaticCluster("backend", upstream));
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        return session;
    }

    [Fact]
    public async Task Listener_WarmsUntilItsRoutesArrive_ThenServes_RdsChangeReachesAnOpenConnection()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await ClustersAsync(server, a.Address);
        await session.SendClustersAsync("c2", XdsResources.StaticCluster("backend", a.Address), XdsResources.StaticCluster("other", b.Address));
        await session.NextRequestAsync(XdsTypeUrls.Cluster);
        var nonce = await session.SendAsync(XdsTypeUrls.Listener, "l1", HttpListener("web", 0, "web-routes"));
        var ack = await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.Equal(("l1", nonce), (ack.VersionInfo, ack.ResponseNonce));
        var rds = await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Equal(["web-routes"], rds.ResourceNames);

        // Warming: not bound until its routes arrive.
        Assert.False(proxy.Host.Runtime.BoundAddresses.ContainsKey("web"));

        var rdsNonce = await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r1", Routes("web-routes", Prefix("/", "backend")));
        var rdsAck = await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Equal(("r1", rdsNonce), (rdsAck.VersionInfo, rdsAck.ResponseNonce));
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.BoundAddresses.ContainsKey("web"))));
        var address = proxy.Listener("web");
        Assert.Equal("200 hello from a", await GetAsync(client, address));

        // One keep-alive connection across a route change: the next request on it takes the new route.
        using var socket = await TcpClientHelpers.ConnectAsync(address);
        Assert.Contains("hello from a", await RequestAsync(socket));
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r2", Routes("web-routes", Prefix("/", "other")));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Contains("hello from b", await RequestAsync(socket));

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_xds_updates_total{type=\"lds\",result=\"accepted\"}"));
        Assert.Equal(2, metrics.Value("proxy_xds_updates_total{type=\"rds\",result=\"accepted\"}"));
    }

    /// <summary>Sends GET /hello on a kept-alive HTTP/1.1 connection and reads one response (its body is short).</summary>
    private static async Task<string> RequestAsync(Socket socket)
    {
        await socket.SendAsync("GET /hello HTTP/1.1\r\nHost: test\r\n\r\n");
        var text = "";
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!text.Contains("hello from", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.True(read > 0, "the proxy closed the kept-alive connection");
            text += System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        }

        return text;
    }

    [Fact]
    public async Task ListenerLeftOut_StopsAccepting_AndItsRouteSubscriptionGoes()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await ClustersAsync(server, a.Address);
        await session.SendAsync(XdsTypeUrls.Listener, "l1", HttpListener("one", 0, "r-one"), InlineHttpListener("two", 0, Routes("inline", Prefix("/", "backend"))));
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.Equal(["r-one"], (await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration)).ResourceNames);
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r1", Routes("r-one", Prefix("/", "backend")));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.BoundAddresses.ContainsKey("one"))));
        var one = proxy.Listener("one");
        Assert.Equal("200 hello from a", await GetAsync(client, one));
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("two")));

        // State of the world: "one" is left out, so it is removed; the route configuration it named is unsubscribed.
        await session.SendAsync(XdsTypeUrls.Listener, "l2", InlineHttpListener("two", 0, Routes("inline", Prefix("/", "backend"))));
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.Empty((await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration)).ResourceNames);
        Assert.False(proxy.Host.Runtime.BoundAddresses.ContainsKey("one"));
        using var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await Assert.ThrowsAsync<SocketException>(async () => await refused.ConnectAsync(one));
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("two")));
    }

    [Fact]
    public async Task BadRoute_IsNacked_WithTheSentence_AndTheOldRoutesKeepServing()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var server = await ScriptedAdsServer.StartAsync();
        await using var proxy = await RunningProxy.StartAsync(Config(server));
        using var client = new HttpClient();
        var session = await ClustersAsync(server, a.Address);
        await session.SendAsync(XdsTypeUrls.Listener, "l1", HttpListener("web", 0, "web-routes"));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r1", Routes("web-routes", Prefix("/", "backend")));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.BoundAddresses.ContainsKey("web"))));

        var bad = Prefix("/", "backend");
        bad.Route_.HashPolicy.Add(new RouteAction.Types.HashPolicy { Header = new RouteAction.Types.HashPolicy.Types.Header { HeaderName = "x-user" } });
        var nonce = await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r2", Routes("web-routes", bad));
        var nack = await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Equal(("r1", nonce), (nack.VersionInfo, nack.ResponseNonce));
        Assert.Equal(3, nack.ErrorDetail.Code);
        Assert.StartsWith("route_configuration 'web-routes': virtual_hosts[0] 'all': routes[0]: route.hash_policy: ", nack.ErrorDetail.Message);
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("web")));

        // A bad listener too: two filter chains with the same match (the second could never be chosen).
        var twoChains = HttpListener("web", 0, "web-routes");
        twoChains.FilterChains.Add(twoChains.FilterChains[0].Clone());
        var ldsNonce = await session.SendAsync(XdsTypeUrls.Listener, "l2", twoChains);
        var ldsNack = await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.Equal(("l1", ldsNonce), (ldsNack.VersionInfo, ldsNack.ResponseNonce));
        Assert.Equal("listener 'web': filter_chains[1].filter_chain_match: the same as filter_chains[0]'s, so no connection could reach it; give each chain its own match", ldsNack.ErrorDetail.Message);
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("web")));
        var dump = await proxy.Admin.GetAsync("/config_dump");
        Assert.Contains("\"error_state\"", dump.Body);
        Assert.Contains("\"details\": \"listener 'web': filter_chains[1].filter_chain_match: the same as", dump.Body);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_xds_updates_total{type=\"rds\",result=\"rejected\"}"));
        Assert.Equal(1, metrics.Value("proxy_xds_updates_total{type=\"lds\",result=\"rejected\"}"));
    }

    [Fact]
    public async Task ListenerBesideTheFiles_ClashIsNacked_AndRouteThatNeverComes_ServesWithoutRoutesAfterTheTimeout()
    {
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var server = await ScriptedAdsServer.StartAsync();
        var filePort = TcpClientHelpers.UnusedPort();
        await using var proxy = await RunningProxy.StartAsync(Config(server, $$"""
            listeners:
              - name: file-web
                address: 127.0.0.1:{{filePort}}
                routes: [ { cluster: backend } ]
            """, "  initial_fetch_timeout: 3s"));
        using var client = new HttpClient();
        var session = await ClustersAsync(server, a.Address);

        var clash = await session.SendAsync(XdsTypeUrls.Listener, "l1", HttpListener("dyn", filePort, "never"));
        var nack = await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.Equal(clash, nack.ResponseNonce);
        Assert.Equal($"listener 'dyn': address 127.0.0.1:{filePort} clashes with the configuration file's listener 'file-web' (127.0.0.1:{filePort}); send another port", nack.ErrorDetail.Message);
        await session.SendAsync(XdsTypeUrls.Listener, "l1", HttpListener("file-web", 0, "never"));
        Assert.Contains("listener 'file-web' is defined in the configuration file", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail.Message);

        // Mixed mode: the file's listener and a dynamic one serve side by side; the dynamic one's routes never come.
        await session.SendAsync(XdsTypeUrls.Listener, "l2", HttpListener("dyn", 0, "never"));
        Assert.Equal(["never"], (await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration)).ResourceNames);
        Assert.False(proxy.Host.Runtime.BoundAddresses.ContainsKey("dyn"));
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("file-web")));
        var warming = await proxy.Admin.GetAsync("/config_dump");
        Assert.Contains("\"warming_state\"", warming.Body);
        Assert.Contains("\"client_status\": \"REQUESTED\"", warming.Body);
        Assert.Contains("\"static_listeners\"", warming.Body);

        // After the initial fetch timeout the listener serves without routes (404), as Envoy does, and says so.
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Host.Runtime.BoundAddresses.ContainsKey("dyn"))));
        Assert.StartsWith("404", await GetAsync(client, proxy.Listener("dyn")));
        Assert.True(await proxy.LoggedAsync("did not arrive within the initial fetch timeout"));
        var absent = await proxy.Admin.GetAsync("/config_dump");
        Assert.Contains("\"active_state\"", absent.Body);
        Assert.Contains("\"client_status\": \"DOES_NOT_EXIST\"", absent.Body);

        // The routes come at last: the listener takes them.
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r1", Routes("never", Prefix("/", "backend")));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("dyn")));
        Assert.Equal("200 hello from a", await GetAsync(client, proxy.Listener("file-web")));
    }
}
