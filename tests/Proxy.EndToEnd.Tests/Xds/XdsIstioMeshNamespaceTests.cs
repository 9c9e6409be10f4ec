using System.Globalization;
using Envoy.Config.Cluster.V3;
using Envoy.Config.Endpoint.V3;
using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Proxy.EndToEnd.Tests.Mesh;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.IstioResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// Two sidecars driven by one management server that answers as istiod does, across two network namespaces with
/// Istio's interception (<c>proxy init</c>: outbound to 15001, inbound to 15006). Neither sidecar's file has a
/// listener or a cluster: everything comes over ADS, by node id. App A (10.77.0.1) calls service <c>b</c> and
/// <c>c</c> by their service addresses; the replicas behind sidecar B (10.77.0.2) answer with their port.
/// </summary>
public sealed class XdsIstioMeshNamespaceTests
{
    private const string Namespace = "default";
    private const string BVip = "10.96.0.10";
    private const string CVip = "10.96.0.11";
    private static readonly string ClientId = Spiffe(Namespace, "a");
    private static readonly string ServerId = Spiffe(Namespace, "b");
    private static readonly string B = Fqdn("b", Namespace);
    private static readonly string C = Fqdn("c", Namespace);

    [SkippableFact]
    public async Task IstioShapedResources_TwoSidecars_MutualTls_RetriesAndSplit()
    {
        var reason = NetnsTopology.SkipReason();
        Skip.If(reason is not null, reason);
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY")!;
        var dir = Directory.CreateTempSubdirectory("proxy-xds-istio-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755: the apps run as nobody
        }

        try
        {
            using var net = new NetnsTopology();
            MeshApps.Must(NetnsTopology.Run(binary, "certs", "ca", "--out", Path.Combine(dir, "ca")));
            MeshApps.Must(NetnsTopology.Run(binary, "certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", ClientId, "--out", Path.Combine(dir, "a"), "--ttl", "1h"));
            MeshApps.Must(NetnsTopology.Run(binary, "certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", ServerId, "--out", Path.Combine(dir, "b"), "--ttl", "1h"));
            await using var server = await ScriptedAdsServer.StartUnixAsync(Path.Combine(dir, "xds.sock"));

            net.Start(net.Server, MeshApps.Python, "-c", ReplicasApp);
            foreach (var ns in new[] { net.Client, net.Server })
            {
                MeshApps.Must(NetnsTopology.Exec(ns, binary, "init", "--proxy-uid", "0", "--iptables-mode", "nft"));
            }

            // The service addresses need a route before the OUTPUT redirect can take them.
            MeshApps.Must(NetnsTopology.Exec(net.Client, "ip", "route", "add", "10.96.0.0/16", "dev", net.ClientVeth));
            File.WriteAllText(Path.Combine(dir, "a.yaml"), SidecarConfig(dir, "a", NetnsTopology.ClientAddress));
            File.WriteAllText(Path.Combine(dir, "b.yaml"), SidecarConfig(dir, "b", NetnsTopology.ServerAddress));
            net.Start(net.Client, binary, "run", "--config", Path.Combine(dir, "a.yaml"));
            net.Start(net.Server, binary, "run", "--config", Path.Combine(dir, "b.yaml"));

            // One server, two streams: each sidecar gets its own resources by its node id, as istiod serves them.
            var feeds = new List<IstioSidecarFeed>();
            for (var i = 0; i < 2; i++)
            {
                var session = await server.NextSessionAsync(TimeSpan.FromSeconds(30));
                var first = await session.NextRequestAsync(TimeSpan.FromSeconds(10));
                var isB = first.Node.Id.Contains(NetnsTopology.ServerAddress, StringComparison.Ordinal);
                feeds.Add(new IstioSidecarFeed(session, first, Clusters(isB), Endpoints(), Listeners(isB), [OutboundRoutes(80, BHost(), CHost())]));
            }

            var ready = System.Diagnostics.Stopwatch.StartNew();
            while (!feeds.All(f => f.AllAcked))
            {
                var nacks = feeds.SelectMany(f => f.Nacks.Select(n => $"{f.NodeId}: {n}")).ToList();
                Assert.True(nacks.Count == 0, "the sidecars refused istiod's resources:\n" + string.Join('\n', nacks));
                Assert.True(ready.Elapsed < TimeSpan.FromSeconds(20), "the sidecars did not ACK every type in 20 s");
                await Task.Delay(100);
            }

            foreach (var port in new[] { 9001, 9002, 9003 })
            {
                MeshApps.WaitForPort(net.Server, port);
            }

            // 1. A calls b by its service address. Sidecar A's virtualOutbound hands the connection to 0.0.0.0_80, whose
            // RDS route "80" sends it to outbound|80||b, round robin over two replicas: 9002 answers 503 to everything, so
            // every request that lands there is retried (retry_on 5xx) on 9001. The app sees only successes.
            var (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient(BVip, 40));
            Assert.True(code == 0, output);
            Assert.Equal(40, Tally(output).GetValueOrDefault("200 9001"));
            var source = MeshApps.Metrics(net.Client);
            Assert.True(MeshApps.Sum(source, "proxy_retries_total", $"cluster=\"{OutboundName(80, B)}\"") >= 10, $"retries of the failing replica:\n{source}");

            // 2. Mutual TLS between the sidecars: sidecar B terminated TLS on virtualInbound's chains for the replicas'
            // ports (its SDS 'default' certificate, clients verified against 'ROOTCA'), and nothing else took the calls.
            var destination = MeshApps.Metrics(net.Server);
            Assert.True(MeshApps.Sum(destination, "proxy_tls_handshakes_total", "listener=\"virtualInbound/") >= 1, $"no TLS handshake on virtualInbound:\n{destination}");
            // A plain-text call to a replica (root's traffic is not intercepted at A, but is at B) matches no chain in
            // STRICT: the connection is closed, and the replica never sees it.
            var (plainCode, plain) = NetnsTopology.Exec(net.Client, "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", $"http://{NetnsTopology.ServerAddress}:9001/plain");
            Assert.True(plainCode != 0 && plain is "000" or "", $"a plain-text call reached the replica in STRICT mode: curl exit {plainCode}, status {plain}");
            Assert.True(MeshApps.Sum(MeshApps.Metrics(net.Server), "proxy_listener_no_filter_chain_total", "listener=\"virtualInbound\"") >= 1, MeshApps.Metrics(net.Server));

            // An Istio (Envoy) client sidecar names the protocol inside by ALPN, istio-http/1.1, which selects B's HTTP
            // chain for the port, whose TLS lists h2 and http/1.1: the handshake goes on without ALPN (as Envoy's does;
            // before, the TLS library refused it with no_application_protocol) and the request reaches the replica
            // through the chain's inline route to inbound|9001||.
            var (envoyCode, envoyOutput) = NetnsTopology.Exec(net.Client, MeshApps.Python, "-c", EnvoyLikeClient(dir, NetnsTopology.ServerAddress, 9001));
            Assert.True(envoyCode == 0 && envoyOutput.Contains("HTTP/1.1 200", StringComparison.Ordinal) && envoyOutput.TrimEnd().EndsWith("9001", StringComparison.Ordinal),
                $"an Istio client's mutual TLS with ALPN istio-http/1.1: exit {envoyCode}: {envoyOutput}");
            Assert.True(MeshApps.Sum(MeshApps.Metrics(net.Server), "proxy_tls_handshakes_total", "listener=\"virtualInbound/0.0.0.0_9001\"") >= 1, MeshApps.Metrics(net.Server));

            // The chains take istiod's TLS 1.2 cipher suites: a TLS 1.2 client that offers only a suite outside them
            // (ECDHE-ECDSA-CHACHA20-POLY1305) is refused, although the TLS library would agree on it by default.
            var (weakCode, weakOutput) = NetnsTopology.Exec(net.Client, MeshApps.Python, "-c", EnvoyLikeClient(dir, NetnsTopology.ServerAddress, 9001, tls12Cipher: "ECDHE-ECDSA-CHACHA20-POLY1305"));
            Assert.True(weakCode != 0 && !weakOutput.Contains("HTTP/1.1 200", StringComparison.Ordinal), $"a TLS 1.2 suite outside istiod's list was agreed: {weakOutput}");
            (weakCode, weakOutput) = NetnsTopology.Exec(net.Client, MeshApps.Python, "-c", EnvoyLikeClient(dir, NetnsTopology.ServerAddress, 9001, tls12Cipher: "ECDHE-ECDSA-AES128-GCM-SHA256"));
            Assert.True(weakCode == 0 && weakOutput.Contains("HTTP/1.1 200", StringComparison.Ordinal), $"a TLS 1.2 suite in istiod's list: {weakOutput}");

            // 3. A weighted split between c's subsets v1 (9001) and v2 (9003), 80/20, per request on one connection.
            (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient(CVip, 400));
            Assert.True(code == 0, output);
            var answers = Tally(output);
            Assert.Equal(400, answers.GetValueOrDefault("200 9001") + answers.GetValueOrDefault("200 9003"));
            var v2Share = answers.GetValueOrDefault("200 9003") / 400.0;
            Assert.True(Math.Abs(v2Share - 0.20) <= 0.07, $"v2 got {v2Share:P1} of an 80/20 split: {string.Join(", ", answers)}");

            // What the sidecars hold is the server's alone: /config_dump lists Istio's names as dynamic resources.
            var (dumpCode, dump) = NetnsTopology.Exec(net.Client, "curl", "-sS", "-m", "30", "http://127.0.0.1:15000/config_dump");
            Assert.True(dumpCode == 0, $"/config_dump: curl exit {dumpCode}: {dump}");
            foreach (var name in new[] { "\"virtualOutbound\"", "\"virtualInbound\"", "\"0.0.0.0_80\"", $"\"{OutboundName(80, C, "v2")}\"" })
            {
                Assert.Contains(name, dump);
            }

            Assert.Empty(feeds.SelectMany(f => f.Nacks));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Nothing but the admin port, the ADS server and the mesh identity (istio-agent's 'default' and 'ROOTCA'). The
    /// mesh's own listeners are kept off 15001 and 15006, which the server's virtualOutbound and virtualInbound take.
    /// </summary>
    private static string SidecarConfig(string dir, string workload, string podIp) => $$"""
        admin: { address: 127.0.0.1:15000 }
        mesh:
          identity: { cert: {{dir}}/{{workload}}/cert.pem, key: {{dir}}/{{workload}}/key.pem, ca: {{dir}}/ca/ca.pem }
          inbound: { port: 15106 }
          outbound: { port: 15101 }
        xds:
          server: unix:{{dir}}/xds.sock
          node:
            id: sidecar~{{podIp}}~{{workload}}-1.{{Namespace}}~{{Namespace}}.svc.cluster.local
            cluster: {{workload}}.{{Namespace}}
            metadata: { NAMESPACE: {{Namespace}}, ISTIO_VERSION: "1.24.0", SERVICE_ACCOUNT: {{workload}} }
          resources: [ clusters, endpoints, listeners, routes ]
        """;

    /// <summary>Every sidecar sees every service (no Sidecar scoping); B also has its inbound clusters.</summary>
    private static IEnumerable<Cluster> Clusters(bool isB)
    {
        yield return OutboundCluster(80, B, ServerId, roundRobin: true);
        yield return OutboundCluster(80, C, ServerId);
        yield return OutboundCluster(80, C, ServerId, "v1");
        yield return OutboundCluster(80, C, ServerId, "v2");
        yield return BlackHole();
        yield return Passthrough();
        yield return InboundPassthrough();
        if (isB)
        {
            foreach (var port in new[] { 9001, 9002, 9003 })
            {
                yield return InboundCluster(port);
            }
        }
    }

    private static IEnumerable<ClusterLoadAssignment> Endpoints()
    {
        var server = NetnsTopology.ServerAddress;
        yield return IstioResources.Endpoints(OutboundName(80, B), "b-v1;default;b;v1;Kubernetes", $"{server}:9001", $"{server}:9002");
        yield return IstioResources.Endpoints(OutboundName(80, C), "c;default;c;v1;Kubernetes", $"{server}:9001", $"{server}:9003");
        yield return IstioResources.Endpoints(OutboundName(80, C, "v1"), "c-v1;default;c;v1;Kubernetes", $"{server}:9001");
        yield return IstioResources.Endpoints(OutboundName(80, C, "v2"), "c-v2;default;c;v2;Kubernetes", $"{server}:9003");
    }

    private static IEnumerable<Listener> Listeners(bool isB)
    {
        yield return VirtualOutbound();
        yield return VirtualInbound(isB ? [9001, 9002, 9003] : []);
        yield return OutboundHttp(80);
    }

    /// <summary>b: a VirtualService with <c>retries: { attempts: 2, retryOn: 5xx }</c>.</summary>
    private static VirtualHost BHost() =>
        ServiceHost("b", Namespace, BVip, 80, ServiceRoute("b-retries", OutboundName(80, B), $"{B}:80/*", Retries("5xx", 2)));

    /// <summary>c: a VirtualService splitting 80/20 between the DestinationRule's subsets v1 and v2.</summary>
    private static VirtualHost CHost() =>
        ServiceHost("c", Namespace, CVip, 80, WeightedRoute("c-split", $"{C}:80/*", (OutboundName(80, C, "v1"), 80), (OutboundName(80, C, "v2"), 20)));

    private static Dictionary<string, int> Tally(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());

    private static string KeepAliveClient(string host, int count) => $$"""
        import http.client
        c = http.client.HTTPConnection('{{host}}', 80, timeout=10)
        for i in range({{count.ToString(CultureInfo.InvariantCulture)}}):
            c.request('GET', '/item/%d' % i)
            r = c.getresponse()
            print(r.status, r.read().decode())
        """;

    /// <summary>
    /// What an Istio client sidecar sends: mutual TLS with the workload certificate, ALPN <c>istio-http/1.1</c> and
    /// <c>istio</c>, the server's certificate checked against the mesh CA, then one HTTP/1.1 request. Prints the ALPN
    /// agreed, the server's SPIFFE ID and the response.
    /// </summary>
    /// <param name="tls12Cipher">When set, TLS 1.2 only, offering this one suite.</param>
    private static string EnvoyLikeClient(string dir, string address, int port, string? tls12Cipher = null) => $$"""
        import socket, ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if '{{tls12Cipher}}':
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers('{{tls12Cipher}}')
        ctx.load_verify_locations('{{dir}}/ca/ca.pem')
        ctx.load_cert_chain('{{dir}}/a/cert.pem', '{{dir}}/a/key.pem')
        ctx.set_alpn_protocols(['istio-http/1.1', 'istio'])
        s = ctx.wrap_socket(socket.create_connection(('{{address}}', {{port}}), timeout=5))
        uri = [v for k, v in s.getpeercert().get('subjectAltName', ()) if k == 'URI']
        print('alpn', s.selected_alpn_protocol(), 'peer', uri)
        s.sendall(b'GET /envoy HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n')
        data = b''
        while True:
            chunk = s.recv(4096)
            if not chunk: break
            data += chunk
        print(data.decode())
        """;

    /// <summary>Three HTTP/1.1 keep-alive replicas answering their port: 9001 and 9003 always 200, 9002 always 503.</summary>
    private const string ReplicasApp = """
        import http.server, socketserver, threading
        def handler(port):
            class H(http.server.BaseHTTPRequestHandler):
                protocol_version = 'HTTP/1.1'
                def log_message(self, *a): pass
                def do_GET(self):
                    body = str(port).encode()
                    self.send_response(503 if port == 9002 else 200)
                    self.send_header('Content-Length', str(len(body))); self.end_headers()
                    self.wfile.write(body)
            return H
        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
        servers = [S(('0.0.0.0', p), handler(p)) for p in (9001, 9002, 9003)]
        for s in servers[1:]:
            threading.Thread(target=s.serve_forever, daemon=True).start()
        servers[0].serve_forever()
        """;
}
