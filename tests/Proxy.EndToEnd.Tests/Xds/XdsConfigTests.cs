using Proxy.Configuration;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>The <c>xds</c> section: what it binds to, and the located errors that say what to fix.</summary>
public class XdsConfigTests
{
    private const string Listener = """
        listeners:
          - name: web
            address: 127.0.0.1:8080
            protocol: http
            routes: [ { match: { path_prefix: / }, cluster: backend } ]

        """;

    private static ConfigLoadResult Load(string xds) => ConfigLoader.LoadText(Listener + xds, "proxy.yaml", ConfigValidationOptions.Default);

    private static string Errors(ConfigLoadResult result) => string.Join("\n", result.Errors);

    [Fact]
    public void Bind_FullSection_WithEnvironmentVariables()
    {
        Environment.SetEnvironmentVariable("XDS_TEST_POD", "web-7d9f");
        var result = Load("""
            xds:
              server: istiod.istio-system.svc:15010
              connect_timeout: 2s
              node:
                id: sidecar~10.0.0.5~${XDS_TEST_POD}.shop~shop.svc.cluster.local
                cluster: web.shop
                metadata: { NAMESPACE: shop, POD: "${XDS_TEST_POD}" }
                locality: { region: eu, zone: eu-1a, sub_zone: rack-3 }
              resources: [ clusters, endpoints ]
            """);
        Assert.True(result.Success, Errors(result));
        var xds = result.Config!.Xds!;
        Assert.Equal(new HostPort("istiod.istio-system.svc", 15010), xds.Server.Address);
        Assert.Equal("sidecar~10.0.0.5~web-7d9f.shop~shop.svc.cluster.local", xds.Node.Id);
        Assert.Equal([new XdsMetadataEntry("NAMESPACE", "shop"), new XdsMetadataEntry("POD", "web-7d9f")], xds.Node.Metadata);
        Assert.Equal("rack-3", xds.Node.Locality.SubZone);
        Assert.True(xds.Clusters && xds.Endpoints);
        Assert.Equal(TimeSpan.FromSeconds(2), xds.ConnectTimeout);
        Assert.Equal(["backend"], result.Config.ReferencedClusters); // served by the management server
    }

    [Fact]
    public void Bind_ListenersAndRoutes_AndTheInitialFetchTimeout()
    {
        var result = Load("xds: { server: a:1, node: { id: n }, resources: [ clusters, endpoints, listeners, routes ], initial_fetch_timeout: 3s }");
        Assert.True(result.Success, Errors(result));
        var xds = result.Config!.Xds!;
        Assert.True(xds.Clusters && xds.Endpoints && xds.Listeners && xds.Routes);
        Assert.Equal(TimeSpan.FromSeconds(3), xds.InitialFetchTimeout);
        var defaults = Load("xds: { server: a:1, node: { id: n } }").Config!.Xds!;
        Assert.False(defaults.Listeners || defaults.Routes); // the default stays clusters and endpoints
        Assert.Equal(TimeSpan.FromSeconds(15), defaults.InitialFetchTimeout);
    }

    [Fact]
    public void Bind_Api_DefaultsToStateOfTheWorld_AndTakesDelta()
    {
        Assert.Equal(XdsApi.StateOfTheWorld, Load("xds: { server: a:1, node: { id: n } }").Config!.Xds!.Api);
        Assert.Equal(XdsApi.StateOfTheWorld, Load("xds: { server: a:1, node: { id: n }, api: state_of_the_world }").Config!.Xds!.Api);
        Assert.Equal(XdsApi.Delta, Load("xds: { server: a:1, node: { id: n }, api: delta }").Config!.Xds!.Api);
    }

    [Fact]
    public void Bind_UnixSocket_IsResolvedAgainstTheFilesFolder()
    {
        var result = ConfigLoader.LoadText(Listener + "xds: { server: unix:./etc/istio/proxy/XDS, node: { id: n } }", "/srv/proxy/proxy.yaml", ConfigValidationOptions.Default);
        Assert.True(result.Success, Errors(result));
        Assert.Equal("/srv/proxy/etc/istio/proxy/XDS", result.Config!.Xds!.Server.UnixPath);
    }

    [Fact]
    public void Bind_SecretServers_ByTheNameResourcesUse_UnixPathsAgainstTheFilesFolder()
    {
        var result = ConfigLoader.LoadText(Listener + """
            xds:
              server: unix:./etc/istio/proxy/XDS
              node: { id: n }
              secret_servers: { sds-grpc: "unix:./var/run/secrets/workload-spiffe-uds/socket", vault: "127.0.0.1:8200" }
            """, "/srv/proxy/proxy.yaml", ConfigValidationOptions.Default);
        Assert.True(result.Success, Errors(result));
        Assert.Equal(
            [new XdsSecretServerConfig("sds-grpc", new XdsServerAddress { UnixPath = "/srv/proxy/var/run/secrets/workload-spiffe-uds/socket" }),
             new XdsSecretServerConfig("vault", new XdsServerAddress { Address = new HostPort("127.0.0.1", 8200) })],
            result.Config!.Xds!.SecretServers);
        Assert.Empty(Load("xds: { server: a:1, node: { id: n } }").Config!.Xds!.SecretServers);
    }

    [Fact]
    public void WithoutXds_AnUnknownClusterIsStillAnError()
    {
        var result = ConfigLoader.LoadText(Listener, "proxy.yaml", ConfigValidationOptions.Default);
        Assert.Contains("unknown cluster 'backend'", Errors(result));
    }

    [Theory]
    [InlineData("xds: { server: nowhere, node: { id: n } }", "proxy.yaml:6:16: xds.server: 'nowhere' has no port (expected host:port); write host:port, or unix:/path for a Unix socket")]
    [InlineData("xds: { server: 'unix:', node: { id: n } }", "xds.server: 'unix:' names no socket; write unix:/path/to/socket")]
    [InlineData("xds: { server: a:1 }", "xds.node: missing required key 'node'")]
    [InlineData("xds: { server: a:1, node: { cluster: c } }", "xds.node.id: missing required key 'id'")]
    [InlineData("xds: { server: a:1, node: { id: n }, resources: [ secrets, clusters ] }", "xds.resources: 'secrets' is not a type to name here: secrets come with the clusters and listeners that name them, over the ADS stream or from an SDS server of xds.secret_servers; remove it")]
    [InlineData("xds: { server: a:1, node: { id: n }, resources: [ clusters, routes ] }", "xds.resources: routes come for the listeners the server sends (their rds.route_config_name), so they need 'listeners' too")]
    [InlineData("xds: { server: a:1, node: { id: n }, resources: [ listeners ] }", "xds.resources: name at least one resource type to take from the server, clusters among them")]
    [InlineData("xds: { server: a:1, node: { id: n }, initial_fetch_timeout: 0s }", "xds.initial_fetch_timeout:")]
    [InlineData("xds: { server: a:1, node: { id: n }, resources: [ endpoints ] }", "xds.resources: endpoints come for the EDS clusters the server sends, so they need 'clusters' too")]
    [InlineData("xds: { server: a:1, node: { id: n }, resources: [ clusterz ] }", "xds.resources: unknown resource type 'clusterz'; known: clusters, endpoints, listeners, routes")]
    [InlineData("xds: { server: 'unix:/x', tls: { insecure_skip_verify: true }, node: { id: n } }", "xds.tls: a Unix socket is reached without TLS")]
    [InlineData("xds: { server: a:1, node: { id: '${XDS_TEST_UNSET_VARIABLE}' } }", "xds.node.id: the environment variable XDS_TEST_UNSET_VARIABLE is not set")]
    [InlineData("xds: { server: a:1, node: { id: n }, port: 1 }", "xds.port: unknown key 'port'; allowed keys: server, api, tls, node, resources, connect_timeout, initial_fetch_timeout, secret_servers")]
    [InlineData("xds: { server: a:1, node: { id: n }, secret_servers: [ 'unix:/s' ] }", "xds.secret_servers: expected a mapping of SDS server names to addresses (e.g. sds-grpc: unix:./var/run/secrets/workload-spiffe-uds/socket)")]
    [InlineData("xds: { server: a:1, node: { id: n }, secret_servers: { sds-grpc: 'unix:' } }", "xds.secret_servers.sds-grpc: 'unix:' names no socket; write unix:/path/to/socket")]
    [InlineData("xds: { server: a:1, node: { id: n }, secret_servers: { sds-grpc: agent } }", "xds.secret_servers.sds-grpc: 'agent' has no port (expected host:port); write host:port, or unix:/path for a Unix socket")]
    [InlineData("xds: { server: a:1, node: { id: n }, api: incremental }", "xds.api:")]
    public void Validate_ReportsWhatToFix(string xds, string expected)
    {
        var result = Load(xds);
        Assert.False(result.Success);
        Assert.Contains(expected, Errors(result));
    }
}
