using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Envoy.Config.Route.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary whose listeners come from the scripted management server (LDS and RDS), with real upstreams
/// and real clients: an xDS-only file (admin and xds, nothing else), a route change that reaches an open keep-alive
/// connection, a NACKed listener and route while the old ones serve, a listener removed by LDS, and a tcp_proxy
/// listener beside a file listener (mixed mode).
/// </summary>
public class XdsListenerBinaryTests
{
    private static string Config(int adminPort, ScriptedAdsServer server, string fileListeners = "") => $$"""
        admin: { address: 127.0.0.1:{{adminPort}} }
        {{fileListeners}}
        xds:
          server: {{server.Address}}
          node: { id: binary-lds, cluster: edge }
          resources: [ clusters, endpoints, listeners, routes ]
        """;

    [SkippableFact]
    public async Task XdsOnlyFile_ListenerRoutesClusterAndEndpoints_FromTheServer_ServeChangeAndGo()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var b = await KestrelUpstream.StartAsync("b");
        await using var server = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), webPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync(Config(adminPort, server), adminPort);
        using var client = new HttpClient();
        async Task<string> Get()
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{webPort}/hello");
            return $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
        }

        // Envoy's order: CDS, EDS, LDS, RDS.
        var session = await server.NextSessionAsync();
        Assert.Equal(XdsTypeUrls.Cluster, (await session.NextRequestAsync()).TypeUrl);
        Assert.Equal(XdsTypeUrls.Listener, (await session.NextRequestAsync()).TypeUrl);
        await session.SendClustersAsync("c1", XdsResources.EdsCluster("backend"), XdsResources.EdsCluster("canary"));
        await session.NextRequestAsync(XdsTypeUrls.ClusterLoadAssignment);
        await session.SendEndpointsAsync("e1", XdsResources.Assignment("backend", a.Address), XdsResources.Assignment("canary", b.Address));
        await session.SendAsync(XdsTypeUrls.Listener, "l1", HttpListener("web", webPort, "web-routes"));
        Assert.Equal(["web-routes"], (await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration)).ResourceNames);
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r1", Routes("web-routes", Prefix("/", "backend")));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetOrNull(Get) == "200 hello from a"));

        // A route change via RDS reaches a kept-alive connection: same socket, next request, new route.
        using var socket = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, webPort));
        Assert.Contains("hello from a", await RequestAsync(socket));
        await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r2", Routes("web-routes", Prefix("/", "canary")));
        await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Contains("hello from b", await RequestAsync(socket));

        // A bad route and a bad listener are NACKed with the sentence; the old ones keep serving.
        var bad = Prefix("/", "backend");
        bad.Route_.ClusterHeader = "x-cluster";
        var nonce = await session.SendAsync(XdsTypeUrls.RouteConfiguration, "r3", Routes("web-routes", bad));
        var nack = await session.NextRequestAsync(XdsTypeUrls.RouteConfiguration);
        Assert.Equal(("r2", nonce), (nack.VersionInfo, nack.ResponseNonce));
        Assert.Equal("route_configuration 'web-routes': virtual_hosts[0] 'all': routes[0]: route.cluster_header: choosing the cluster per request is not supported; use cluster or weighted_clusters", nack.ErrorDetail.Message);
        var original = HttpListener("web", webPort, "web-routes");
        original.Transparent = true;
        await session.SendAsync(XdsTypeUrls.Listener, "l2", original);
        var ldsNack = await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.Equal("l1", ldsNack.VersionInfo);
        Assert.Equal("listener 'web': transparent: transparent (TPROXY) sockets are not supported; the proxy takes redirected connections (proxy init) on ordinary listeners", ldsNack.ErrorDetail.Message);
        Assert.Equal("200 hello from b", await Get());
        Assert.Contains("hello from b", await RequestAsync(socket));

        // Envoy's layout in /config_dump: the listener active, its route configuration with its version.
        var dump = JsonDocument.Parse((await proxy.Admin.GetAsync("/config_dump")).Body).RootElement.GetProperty("configs");
        var listeners = Find(dump, "type.googleapis.com/envoy.admin.v3.ListenersConfigDump");
        Assert.Equal("l1", listeners.GetProperty("version_info").GetString());
        var active = listeners.GetProperty("dynamic_listeners")[0];
        Assert.Equal("web", active.GetProperty("name").GetString());
        Assert.Equal("l1", active.GetProperty("active_state").GetProperty("version_info").GetString());
        Assert.Equal(XdsTypeUrls.Listener, active.GetProperty("active_state").GetProperty("listener").GetProperty("@type").GetString());
        Assert.Equal(webPort, active.GetProperty("active_state").GetProperty("listener").GetProperty("address").GetProperty("socket_address").GetProperty("port_value").GetInt32());
        var failure = active.GetProperty("error_state");
        Assert.Equal("l2", failure.GetProperty("version_info").GetString());
        Assert.Equal(ldsNack.ErrorDetail.Message, failure.GetProperty("details").GetString());
        Assert.True(failure.GetProperty("failed_configuration").GetProperty("transparent").GetBoolean());
        var routes = Find(dump, "type.googleapis.com/envoy.admin.v3.RoutesConfigDump").GetProperty("dynamic_route_configs")[0];
        Assert.Equal("r2", routes.GetProperty("version_info").GetString());
        Assert.Equal("web-routes", routes.GetProperty("route_config").GetProperty("name").GetString());
        Assert.Equal(1, await proxy.MetricAsync("proxy_xds_updates_total{type=\"lds\",result=\"accepted\"}"));
        Assert.Equal(1, await proxy.MetricAsync("proxy_xds_updates_total{type=\"lds\",result=\"rejected\"}"));
        Assert.Equal(2, await proxy.MetricAsync("proxy_xds_updates_total{type=\"rds\",result=\"accepted\"}"));

        // LDS leaves the listener out: it stops accepting.
        await session.SendAsync(XdsTypeUrls.Listener, "l3");
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, webPort);
                return false;
            }
            catch (SocketException)
            {
                return true;
            }
        }));
    }

    [SkippableFact]
    public async Task MixedMode_FileListenerBesideDynamicHttpAndTcpProxyListeners()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var a = await KestrelUpstream.StartAsync("a");
        await using var echo = TcpUpstream.Echo();
        await using var server = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), filePort = TcpClientHelpers.UnusedPort(), httpPort = TcpClientHelpers.UnusedPort(), tcpPort = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync(Config(adminPort, server, $$"""
            listeners:
              - name: file-web
                address: 127.0.0.1:{{filePort}}
                routes: [ { cluster: backend } ]
            """), adminPort);
        using var client = new HttpClient();

        var session = await server.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1", XdsResources.StaticCluster("backend", a.Address), XdsResources.StaticCluster("echo", echo.Address));
        await session.SendAsync(XdsTypeUrls.Listener, "l1",
            TcpListener("echo-tcp", tcpPort, "echo"),
            InlineHttpListener("dyn-web", httpPort, Routes("inline", Prefix("/", "backend"))));
        await session.NextRequestAsync(XdsTypeUrls.Listener);

        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await GetOrNull(async () => await client.GetStringAsync($"http://127.0.0.1:{httpPort}/hello")) == "hello from a"));
        Assert.Equal("hello from a", await client.GetStringAsync($"http://127.0.0.1:{filePort}/hello"));

        // The tcp_proxy listener carries bytes both ways.
        using var socket = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, tcpPort));
        await socket.SendAsync("ping over tcp_proxy\n");
        Assert.Equal("ping over tcp_proxy", await socket.ReadLineAsync());
    }

    private static async Task<string?> GetOrNull(Func<Task<string>> get)
    {
        try
        {
            return await get();
        }
        catch (HttpRequestException)
        {
            return null; // not bound yet
        }
    }

    private static JsonElement Find(JsonElement configs, string type)
    {
        foreach (var item in configs.EnumerateArray())
        {
            if (item.GetProperty("@type").GetString() == type)
            {
                return item;
            }
        }

        throw new InvalidOperationException($"/config_dump has no {type}");
    }

    /// <summary>GET /hello on a kept-alive HTTP/1.1 connection; reads until the body arrived.</summary>
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
}
