using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Proxy.EndToEnd.Tests.Mesh;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;
using static Proxy.EndToEnd.Tests.Xds.XdsOriginalDstNamespaceTests;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// ORIGINAL_DST clusters (Istio's PassthroughCluster and inbound clusters) in a network namespace the test creates:
/// the app's connections to 10.77.0.2 are redirected to the proxy's virtualOutbound, and the proxy, as root, is not
/// redirected again; an original-destination cluster then connects to where each connection was going.
/// </summary>
public sealed class XdsOriginalDstClusterNamespaceTests
{
    // Answers with the port it was reached on and the peer's address, on 8080 and 8081.
    private const string ServerApp = """
        import http.server, socketserver, threading
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"port {self.server.server_address[1]} from {self.client_address[0]}".encode()
                self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *a): pass
        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True; allow_reuse_address = True
        servers = [S(("0.0.0.0", p), H) for p in (8080, 8081)]
        for s in servers[1:]: threading.Thread(target=s.serve_forever, daemon=True).start()
        servers[0].serve_forever()
        """;

    private const string SecondClientAddress = "10.77.0.3";

    private static XdsCluster OriginalDst(string name, string? sourceAddress = null)
    {
        var cluster = new XdsCluster
        {
            Name = name,
            Type = XdsCluster.Types.DiscoveryType.OriginalDst,
            LbPolicy = XdsCluster.Types.LbPolicy.ClusterProvided,
            ConnectTimeout = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(2)),
        };
        if (sourceAddress is not null)
        {
            cluster.UpstreamBindConfig = new BindConfig { SourceAddress = new SocketAddress { Address = sourceAddress, PortValue = 0 } };
        }

        return cluster;
    }

    [SkippableFact]
    public async Task OriginalDstClusters_ConnectToTheDestinationBeforeTheRedirect_ForTcpAndHttp()
    {
        var reason = NetnsTopology.SkipReason();
        Skip.If(reason is not null, reason);
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY")!;
        var dir = Directory.CreateTempSubdirectory("proxy-xds-odst-cluster-").FullName;
        try
        {
            await using var server = await ScriptedAdsServer.StartUnixAsync(Path.Combine(dir, "xds.sock"));
            using var net = new NetnsTopology();
            net.Start(net.Server, MeshApps.Python, "-c", ServerApp);
            MeshApps.WaitForPort(net.Server, 8081);

            // Only the app (uid 65534) is redirected, as istio-iptables leaves the proxy's own uid alone; a second
            // address on the client's side is what the HTTP cluster binds its connections to.
            Must(NetnsTopology.Exec(net.Client, "ip", "addr", "add", SecondClientAddress + "/24", "dev", net.ClientVeth));
            Must(NetnsTopology.Exec(net.Client, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", NetnsTopology.ServerAddress,
                "-m", "owner", "--uid-owner", "65534", "-j", "REDIRECT", "--to-ports", "15001"));
            File.WriteAllText(Path.Combine(dir, "proxy.yaml"), $$"""
                admin: { address: 127.0.0.1:15000 }
                xds:
                  server: unix:{{Path.Combine(dir, "xds.sock")}}
                  node: { id: netns-original-dst-cluster, cluster: edge }
                  resources: [ clusters, endpoints, listeners, routes ]
                """);
            net.Start(net.Client, binary, "run", "--config", Path.Combine(dir, "proxy.yaml"));

            var session = await server.NextSessionAsync(TimeSpan.FromSeconds(30));
            await session.NextRequestAsync(XdsTypeUrls.Listener); // the cluster subscription comes first, skipped here

            // virtualOutbound: 8081 is handed to its HTTP listener (routes to the bound cluster); anything else takes
            // the passthrough chain, a tcp_proxy to PassthroughCluster.
            var passthrough = TcpListener("x", 1, "PassthroughCluster").FilterChains[0];
            passthrough.Name = "PassthroughCluster";
            var outbound = Chained("virtualOutbound", "0.0.0.0", 15001, passthrough);
            outbound.UseOriginalDst = true;
            var http = InlineHttpListener("0.0.0.0_8081", 8081, Routes("8081", Prefix("/", "outbound|8081||bound")));
            http.Address.SocketAddress.Address = "0.0.0.0";
            http.BindToPort = false;
            await session.SendClustersAsync("c1", OriginalDst("PassthroughCluster"), OriginalDst("outbound|8081||bound", SecondClientAddress));
            await session.SendAsync(XdsTypeUrls.Listener, "l1", outbound, http);
            var acked = new HashSet<string>();
            while (acked.Count < 2)
            {
                var request = await session.NextRequestAsync();
                Assert.Equal("", request.ErrorDetail?.Message ?? "");
                if (request.VersionInfo is "c1" or "l1")
                {
                    acked.Add(request.VersionInfo);
                }
            }

            // TCP: the bytes reach 10.77.0.2:8080 from the client's own address.
            Assert.True(Eventually(() => AppCurl(net, 8080) == $"port 8080 from {NetnsTopology.ClientAddress}"), $"port 8080: {AppCurl(net, 8080)}");

            // HTTP: routed per request to the original destination, from the address the cluster binds.
            Assert.Equal($"port 8081 from {SecondClientAddress}", AppCurl(net, 8081));
            Assert.Equal($"port 8081 from {SecondClientAddress}", AppCurl(net, 8081));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string AppCurl(NetnsTopology net, int port)
    {
        var (code, body) = MeshApps.AsApp(net.Client, "curl", "-s", "-m", "5", $"http://{NetnsTopology.ServerAddress}:{port}/");
        return code == 0 ? body : $"curl exit {code}: {body}";
    }
}
