using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Lifecycle;

/// <summary>Hot reload: new connections take the new snapshot, open ones finish on the old; bad reloads change nothing.</summary>
public class ReloadTests
{
    private static string Config(string endpoint, int listenerPort = 0) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - { name: tcp, address: 127.0.0.1:{{listenerPort}}, protocol: tcp, cluster: backend }
        clusters:
          - { name: backend, endpoints: [ {{endpoint}} ] }
        """;

    [Fact]
    public async Task Reload_EndpointsChange_OpenConnectionKeepsOldNewOnesUseNew()
    {
        await using var a = TcpUpstream.Named("a");
        await using var b = TcpUpstream.Named("b");
        await using var proxy = await RunningProxy.StartAsync(Config(a.Address));
        var port = proxy.Listener("tcp").Port;

        using var before = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));
        Assert.Equal("a", await before.ReadLineAsync());

        await proxy.RewriteConfig(Config(b.Address, port));
        Assert.True(await proxy.Host.ReloadAsync());

        using var after = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));
        Assert.Equal("b", await after.ReadLineAsync());

        // The connection opened before the reload still talks to a.
        await before.SendAsync("still here\n");
        Assert.Equal("still here", await before.ReadLineAsync());
        Assert.Equal(port, proxy.Listener("tcp").Port);

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_config_reloads_total{result=\"ok\"}"));
    }

    private static string RoutesConfig(string body, int listenerPort = 0) => $$"""
        admin: { address: 127.0.0.1:0 }
        listeners:
          - name: web
            address: 127.0.0.1:{{listenerPort}}
            routes:
              - { match: { path_prefix: / }, direct_response: { status: 200, body: "{{body}}" } }
        """;

    /// <summary>
    /// A route change reaches a connection that stays open, at its next request: for an HTTP/2 client (a gRPC channel
    /// lives for hours) as for an HTTP/1.1 one. HTTP/2 connections used to keep the routes they were opened with.
    /// </summary>
    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task Reload_RoutesChange_OpenConnectionTakesThemAtItsNextRequest(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(RoutesConfig("before"));
        var port = proxy.Listener("web").Port;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1 })
        {
            BaseAddress = new Uri($"http://{proxy.Listener("web")}"),
            DefaultRequestVersion = client == "h2" ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        Assert.Equal("before", await http.GetStringAsync("/"));
        var opened = (await proxy.Admin.MetricsAsync()).Value("proxy_listener_connections_opened_total{listener=\"web\"}");
        Assert.Equal(1, opened);

        await proxy.RewriteConfig(RoutesConfig("after", port));
        Assert.True(await proxy.Host.ReloadAsync());

        Assert.Equal("after", await http.GetStringAsync("/"));
        Assert.Equal(opened, (await proxy.Admin.MetricsAsync()).Value("proxy_listener_connections_opened_total{listener=\"web\"}"));
    }

    [Fact]
    public async Task Reload_InvalidFile_KeepsServingOldConfigAndLogsErrors()
    {
        await using var a = TcpUpstream.Named("a");
        await using var proxy = await RunningProxy.StartAsync(Config(a.Address));
        var port = proxy.Listener("tcp").Port;

        await proxy.RewriteConfig($$"""
            listeners:
              - { name: tcp, address: 127.0.0.1:{{port}}, protocol: tcp, cluster: nowhere }
            clusters:
              - { name: backend, endpoints: [ "not an address" ] }
            """);
        Assert.False(await proxy.Host.ReloadAsync());

        using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));
        Assert.Equal("a", await client.ReadLineAsync());
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value("proxy_config_reloads_total{result=\"failed\"}"));
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => Task.FromResult(proxy.Log.ToString().Contains("nowhere"))));
    }

    [Fact]
    public async Task Reload_FileChangeDetected_WithoutSignal()
    {
        await using var a = TcpUpstream.Named("a");
        await using var b = TcpUpstream.Named("b");
        await using var proxy = await RunningProxy.StartAsync(Config(a.Address), watchFile: true);
        var port = proxy.Listener("tcp").Port;

        await proxy.RewriteConfig(Config(b.Address, port));

        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));
            return await client.ReadLineAsync() == "b";
        }, TimeSpan.FromSeconds(15)));
    }

    [Fact]
    public async Task Reload_NewListenerAddressBusy_KeepsOldConfig()
    {
        await using var a = TcpUpstream.Named("a");
        await using var proxy = await RunningProxy.StartAsync(Config(a.Address));
        var port = proxy.Listener("tcp").Port;

        // A second listener on the upstream's own (busy) port cannot bind.
        await proxy.RewriteConfig($$"""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - { name: tcp, address: 127.0.0.1:{{port}}, protocol: tcp, cluster: backend }
              - { name: clash, address: 127.0.0.1:{{a.Port}}, protocol: tcp, cluster: backend }
            clusters:
              - { name: backend, endpoints: [ {{a.Address}} ] }
            """);
        Assert.False(await proxy.Host.ReloadAsync());
        Assert.False(proxy.Host.Runtime.BoundAddresses.ContainsKey("clash"));
        using var client = await TcpClientHelpers.ConnectAsync(proxy.Listener("tcp"));
        Assert.Equal("a", await client.ReadLineAsync());
    }
}
