using System.Diagnostics;
using Envoy.Config.Core.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Config.Listener.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The C# test ADS server against a real xDS client that is not the proxy: gRPC's proxyless client,
/// <c>@grpc/grpc-js-xds</c>, resolving <c>xds:///echo.test</c> through the server (LDS with an api_listener, RDS,
/// CDS, EDS, each by name) to a real gRPC server on loopback. It shows the scripted server speaks xDS as real clients
/// expect, so what the protocol tests assert of the proxy is asserted against a faithful server.
/// </summary>
public class XdsGrpcJsClientTests
{
    [SkippableFact]
    public async Task GrpcJsXdsClient_ResolvesThroughTheTestServer_AndCallsARealGrpcServer()
    {
        var missing = NodeAdsServer.Missing(out var adsScript, out var protos);
        var modules = Path.GetFullPath(Path.Combine(protos, "..", "..", ".."));
        Skip.If(missing is not null, missing);
        Skip.IfNot(Directory.Exists(Path.Combine(modules, "@grpc", "grpc-js-xds", "build")), "build/xds-protos has no @grpc/grpc-js-xds: run scripts/setup.sh");
        var script = Path.Combine(Path.GetDirectoryName(adsScript)!, "xds-interop.js");
        var echoPort = TcpClientHelpers.UnusedPort();
        await using var ads = await ScriptedAdsServer.StartAsync();
        using var echo = Node(script, "server", $"--modules={modules}", $"--port={echoPort}");
        Assert.StartsWith("listening", await echo.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        using var client = Node(script, "client", $"--modules={modules}", $"--ads={ads.Address}", "--target=xds:///echo.test", "--calls=3");
        try
        {
            var session = await ads.NextSessionAsync(TimeSpan.FromSeconds(30));
            var sent = new Dictionary<string, (string Version, string Nonce)>();
            var acked = new HashSet<string>();
            var first = true;
            while (acked.Count < 4)
            {
                var request = await session.NextRequestAsync(TimeSpan.FromSeconds(30));
                if (first)
                {
                    Assert.Equal("grpc-js-xds-client", request.Node.Id); // the node on the first request
                    first = false;
                }

                Assert.True(request.ErrorDetail is null, $"the gRPC client NACKed {request.TypeUrl}: {request.ErrorDetail?.Message}");
                if (sent.TryGetValue(request.TypeUrl, out var response))
                {
                    if (request.ResponseNonce == response.Nonce && request.VersionInfo == response.Version)
                    {
                        acked.Add(request.TypeUrl); // an ACK echoes the version and the nonce
                    }

                    continue;
                }

                // Every type by name, as gRPC's client asks for them: the listener is the target's name.
                var version = "v1";
                var nonce = request.TypeUrl switch
                {
                    XdsTypeUrls.Listener when request.ResourceNames.Contains("echo.test") => await session.SendAsync(XdsTypeUrls.Listener, version, GrpcListener("echo.test", "echo-routes")),
                    XdsTypeUrls.RouteConfiguration when request.ResourceNames.Contains("echo-routes") => await session.SendAsync(XdsTypeUrls.RouteConfiguration, version, Routes("echo-routes", Prefix("", "echo-cluster"))),
                    XdsTypeUrls.Cluster when request.ResourceNames.Contains("echo-cluster") => await session.SendClustersAsync(version, XdsResources.EdsCluster("echo-cluster")),
                    XdsTypeUrls.ClusterLoadAssignment when request.ResourceNames.Contains("echo-cluster") => await session.SendEndpointsAsync(version, WeightedAssignment("echo-cluster", echoPort)),
                    _ => null,
                };
                if (nonce is not null)
                {
                    sent[request.TypeUrl] = (version, nonce);
                }
            }

            Assert.Equal("unary 3 ok", await client.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            Stop(client);
            Stop(echo);
        }
    }

    /// <summary>A listener for gRPC's client: no address, its http_connection_manager as the api_listener, routes over RDS.</summary>
    private static Listener GrpcListener(string name, string routes)
    {
        var filter = Hcm(new HttpConnectionManager
        {
            Rds = new Rds
            {
                RouteConfigName = routes,
                ConfigSource = new ConfigSource { Ads = new AggregatedConfigSource(), ResourceApiVersion = ApiVersion.V3 },
            },
        });
        return new Listener { Name = name, ApiListener = new ApiListener { ApiListener_ = filter.TypedConfig } };
    }

    /// <summary>One locality of weight 1 (gRPC drops localities without a weight) with 127.0.0.1:<paramref name="port"/>.</summary>
    private static ClusterLoadAssignment WeightedAssignment(string name, int port)
    {
        var assignment = XdsResources.Assignment(name, $"127.0.0.1:{port}");
        assignment.Endpoints[0].LoadBalancingWeight = 1;
        return assignment;
    }

    private static Process Node(string script, params string[] args)
    {
        var start = new ProcessStartInfo("node", [script, .. args]) { RedirectStandardOutput = true, UseShellExecute = false };
        return Process.Start(start)!;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }
}
