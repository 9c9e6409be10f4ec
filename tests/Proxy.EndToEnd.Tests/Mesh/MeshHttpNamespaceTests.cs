using System.Globalization;

namespace Proxy.EndToEnd.Tests.Mesh;

/// <summary>
/// The mesh at L7, across network namespaces with <c>proxy init</c> interception only: the client app dials virtual
/// service addresses; its sidecar serves each request with the service's routes (per-request balancing, the default
/// retry policy, a weighted split) and sends it over mutual TLS to the server sidecar, naming the protocol inside by
/// ALPN. Three replicas behind the server sidecar: a healthy v1, a flaky v1 (every sixth request a 503, another a
/// reset connection) and a v2.
/// </summary>
public sealed class MeshHttpNamespaceTests
{
    private const string ClientId = "spiffe://mesh.test/ns/default/sa/client";
    private const string ServerId = "spiffe://mesh.test/ns/default/sa/server";

    [SkippableFact]
    public void OutboundHttp_RetriesHideAFlakyReplica_BalancesPerRequest_SplitsByWeight_KeepsTheAppsProtocol()
    {
        var reason = NetnsTopology.SkipReason();
        Skip.If(reason is not null, reason);
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY")!;
        var nodePath = GrpcNodeApps.NodePath(out var nodeMissing);
        Assert.True(nodePath is not null, $"the gRPC apps need grpc-node: {nodeMissing}");
        var dir = Directory.CreateTempSubdirectory("proxy-mesh-l7-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755: the apps run as nobody
        }

        try
        {
            using var net = new NetnsTopology();
            MeshApps.Must(NetnsTopology.Run(binary, "certs", "ca", "--out", Path.Combine(dir, "ca")));
            MeshApps.Must(NetnsTopology.Run(binary, "certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", ClientId, "--out", Path.Combine(dir, "client"), "--ttl", "1h"));
            MeshApps.Must(NetnsTopology.Run(binary, "certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", ServerId, "--out", Path.Combine(dir, "server"), "--ttl", "1h"));

            net.Start(net.Server, MeshApps.Python, "-c", ReplicasApp);
            net.Start(net.Server, MeshApps.Python, "-c", ServerFirstApp);
            File.WriteAllText(Path.Combine(dir, "nginx.conf"), MeshApps.NginxConfig(dir, "server { listen 0.0.0.0:8081 http2; location / { return 200 \"$server_protocol\"; } }"));
            net.Start(net.Server, "nginx", "-c", Path.Combine(dir, "nginx.conf"), "-p", dir);
            net.Start(net.Server, "env", "NODE_PATH=" + nodePath, "node", "-e", GrpcNodeApps.Server(50051));
            File.WriteAllText(Path.Combine(dir, "server.yaml"), ServerConfig(dir));
            File.WriteAllText(Path.Combine(dir, "client.yaml"), ClientConfig(dir));
            foreach (var ns in new[] { net.Client, net.Server })
            {
                MeshApps.Must(NetnsTopology.Exec(ns, binary, "init", "--proxy-uid", "0", "--iptables-mode", "nft"));
            }

            // The virtual service addresses need a route before the OUTPUT redirect can take them.
            MeshApps.Must(NetnsTopology.Exec(net.Client, "ip", "route", "add", "10.96.0.0/16", "dev", net.ClientVeth));
            net.Start(net.Server, binary, "run", "--config", Path.Combine(dir, "server.yaml"));
            net.Start(net.Client, "env", "POD_NAMESPACE=default", binary, "run", "--config", Path.Combine(dir, "client.yaml"));
            MeshApps.Must(NetnsTopology.Exec(net.Server, binary, "wait-ready", "--admin", "127.0.0.1:15000", "--timeout", "20s"));
            MeshApps.Must(NetnsTopology.Exec(net.Client, binary, "wait-ready", "--admin", "127.0.0.1:15000", "--timeout", "20s"));
            foreach (var port in new[] { 9001, 9002, 9003, 9004, 8081, 3306, 50051 })
            {
                MeshApps.WaitForPort(net.Server, port);
            }

            // 1. Retries and per-request balancing: 300 requests on ONE keep-alive connection from the app. Every one
            // succeeds although the flaky replica fails a third of what it gets; both v1 replicas answer (an L4 sidecar
            // would pin the connection to one of them).
            var (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient("10.96.0.10", 300));
            Assert.True(code == 0, output);
            var answers = Tally(output);
            Assert.True(answers.GetValueOrDefault("200 9001") + answers.GetValueOrDefault("200 9002") == 300, output);
            Assert.True(answers.GetValueOrDefault("200 9001") > 50 && answers.GetValueOrDefault("200 9002") > 50, output);

            var source = MeshApps.Metrics(net.Client);
            Assert.Matches("""proxy_retries_total\{cluster="api",reason="[a-z_-]+"\} [1-9]""", source);
            // The caller's sidecar logs each request (after its retries), as an edge listener does.
            var logged = WaitForLines(Path.Combine(dir, "client-access.log"), "/item/299");
            Assert.Contains("mesh-outbound", logged);
            var sourceRequests = MeshApps.Sum(source, "istio_requests_total", "reporter=\"source\"", "listener=\"mesh-outbound\"", "response_code=\"200\"");
            Assert.True(sourceRequests >= 300, $"source-side requests counted: {sourceRequests}\n{source}");

            // Multiplexing: 24 app connections at once, 10 requests each. The client sidecar carries HTTP/1.1 as HTTP/2
            // streams over one connection per endpoint (an HTTP/1.1 pool would open one per request in flight), and the
            // server sidecar hands the replicas HTTP/1.1 again (they speak nothing else).
            // A capture on the link meanwhile sees TLS records only, and few connections opened.
            var capturePath = Path.Combine(dir, "veth.bin");
            var capture = net.Start(net.Server, MeshApps.Python, "-c", MeshApps.CaptureScript(net.ServerVeth, capturePath, seconds: 5));
            Thread.Sleep(700);
            (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", ParallelClient("10.96.0.10", connections: 24, requests: 10));
            Assert.True(code == 0, output);
            Assert.Equal(240, Tally(output).Where(a => a.Key is "200 9001" or "200 9002").Sum(a => a.Value));
            var opened = MeshApps.Sum(MeshApps.Metrics(net.Client), "proxy_upstream_connections_total", "cluster=\"api\"");
            Assert.True(opened is >= 1 and <= 4, $"upstream connections opened for 540 requests, 24 at a time: {opened}");
            Assert.True(capture.WaitForExit(15_000), "packet capture did not finish");
            var wire = System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(capturePath));
            Assert.True(wire.Contains("\u0017\u0003\u0003", StringComparison.Ordinal), "no TLS application data record seen on the link");
            Assert.DoesNotContain("/parallel/", wire);
            Assert.DoesNotContain("HTTP/1.1 200", wire);
            var syns = int.Parse(File.ReadAllText(capturePath + ".syns"), CultureInfo.InvariantCulture);
            Assert.True(syns <= 4, $"connections opened on the link for 240 requests from 24 app connections: {syns}");

            // Istio's labels on both sides, each sidecar knowing the other's workload from the metadata exchange: the
            // caller reports source (itself) and destination (the server's workload, sent back on each response).
            var sourceLabelled = MeshApps.Sum(source, "istio_requests_total", "reporter=\"source\"",
                "source_workload=\"web\",source_workload_namespace=\"default\",source_principal=\"" + ClientId + "\",source_app=\"web\",source_version=\"v3\"",
                "destination_workload=\"orders\",destination_workload_namespace=\"default\",destination_principal=\"" + ServerId + "\",destination_app=\"orders\",destination_version=\"v1\"",
                "destination_service=\"orders.default.svc.cluster.local\",destination_service_name=\"orders\",destination_service_namespace=\"default\"",
                "response_code=\"200\"");
            Assert.True(sourceLabelled >= 300, $"source-side requests with Istio's labels: {sourceLabelled}\n{source}");

            // The server sidecar was told HTTP/2 by ALPN and counted every try it served (retried ones included).
            var destination = MeshApps.Metrics(net.Server);
            var destinationRequests = MeshApps.Sum(destination, "istio_requests_total", "reporter=\"destination\"",
                "source_workload=\"web\",source_workload_namespace=\"default\",source_principal=\"" + ClientId + "\",source_app=\"web\",source_version=\"v3\"",
                "destination_workload=\"orders\",destination_workload_namespace=\"default\",destination_principal=\"" + ServerId + "\"",
                "connection_security_policy=\"mutual_tls\"");
            Assert.True(destinationRequests > 300, $"destination-side requests counted: {destinationRequests}\n{destination}");

            // 2. A 90/10 split between v1 and v2, per request, over one connection: within 3 points over 2,000.
            (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient("10.96.0.11", 2000));
            Assert.True(code == 0, output);
            answers = Tally(output);
            var ok = answers.Where(a => a.Key.StartsWith("200 ", StringComparison.Ordinal)).Sum(a => a.Value);
            Assert.Equal(2000, ok);
            var v2Share = answers.GetValueOrDefault("200 9003") / 2000.0;
            Assert.True(Math.Abs(v2Share - 0.10) <= 0.03, $"v2 got {v2Share:P1} of the split: {output}");

            // A reload moves the canary address wholly to v2 (a finished rollout): the outbound services take it at
            // once, as edge routes do. Before, the sidecar kept the routes it started with, silently. An app connection
            // opened before the reload takes the new routes at its next request too, as Envoy's connections take a new
            // RouteConfiguration; before, it kept the split for as long as the app kept it open.
            var signals = Directory.CreateTempSubdirectory("proxy-mesh-signal-");
            if (OperatingSystem.IsLinux())
            {
                signals.UnixFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite
                    | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute; // the app's uid writes here
            }
            var (openedFile, carryOnFile) = (Path.Combine(signals.FullName, "opened"), Path.Combine(signals.FullName, "reloaded"));
            var longLived = Task.Run(() => MeshApps.AsApp(net.Client, MeshApps.Python, "-c", AcrossReloadClient("10.96.0.11", openedFile, carryOnFile, 20)));
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(openedFile))
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(15) && !longLived.IsCompleted, $"the long-lived app connection never made its first request: {(longLived.IsCompleted ? longLived.Result.Output : "")}");
                Thread.Sleep(50);
            }

            File.WriteAllText(Path.Combine(dir, "client.yaml"), ClientConfig(dir).Replace(
                "- split: [ { cluster: api, weight: 90 }, { cluster: api-v2, weight: 10 } ]", "- { cluster: api-v2 }", StringComparison.Ordinal));
            var reloaded = System.Diagnostics.Stopwatch.StartNew();
            while (MeshApps.Sum(MeshApps.Metrics(net.Client), "proxy_config_reloads_total", "result=\"ok\"") < 1)
            {
                Assert.True(reloaded.Elapsed < TimeSpan.FromSeconds(15), "the client sidecar never reloaded its changed file");
                Thread.Sleep(200);
            }

            File.WriteAllText(carryOnFile, "");
            (code, output) = longLived.GetAwaiter().GetResult();
            signals.Delete(recursive: true);
            Assert.True(code == 0 && Tally(output).GetValueOrDefault("200 9003") == 20, $"after the reload every request on the connection opened before it goes to v2: {output}");
            (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient("10.96.0.11", 50));
            Assert.True(code == 0 && Tally(output).GetValueOrDefault("200 9003") == 50, $"after the reload every request goes to v2: {output}");

            // 3. HTTP/2 from the app stays HTTP/2 to the server app (h2c prior knowledge, as gRPC clients speak).
            var (h2Code, h2Body) = MeshApps.AsApp(net.Client, "curl", "-s", "--http2-prior-knowledge", "-m", "10", "http://10.96.0.12/");
            Assert.True(h2Code == 0 && h2Body.Trim() == "HTTP/2.0", $"h2c through both sidecars: curl exit {h2Code}: {h2Body}");
            Assert.Contains("request_protocol=\"http\"", MeshApps.Metrics(net.Client));

            // gRPC from a real client (grpc-node): unary calls, a server stream, a bidirectional stream that
            // interleaves, and a call the server fails. Each side counts them as gRPC with the status from the trailers.
            var (grpcCode, grpcOutput) = MeshApps.AsApp(net.Client, "env", "NODE_PATH=" + nodePath, "node", "-e", GrpcNodeApps.Client("10.96.0.15:80", 50));
            Assert.True(grpcCode == 0, $"gRPC through both sidecars: exit {grpcCode}: {grpcOutput}");
            Assert.Equal(["unary 50 ok", "stream 0,1,2,3,4", "bidi 7,8,9", "fail 5"], grpcOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            var grpcSource = MeshApps.Metrics(net.Client);
            var grpcDestination = MeshApps.Metrics(net.Server);
            foreach (var (side, reporter) in new[] { (grpcSource, "source"), (grpcDestination, "destination") })
            {
                Assert.True(MeshApps.Sum(side, "istio_requests_total", $"reporter=\"{reporter}\"", "request_protocol=\"grpc\",response_code=\"200\",grpc_response_status=\"0\"") >= 52, side);
                Assert.Equal(1, MeshApps.Sum(side, "istio_requests_total", $"reporter=\"{reporter}\"", "request_protocol=\"grpc\",response_code=\"200\",grpc_response_status=\"5\""));
            }

            // Both sides log each request with the workload on the other side, as mutual TLS proved it.
            Assert.Contains("\"upstream_peer_identity\":\"" + ServerId + "\"", WaitForLines(Path.Combine(dir, "client-access.log"), "/test.Echo/Fail"));
            Assert.Contains("\"peer_identity\":\"" + ClientId + "\"", WaitForLines(Path.Combine(dir, "server-access.log"), "/test.Echo/Fail"));

            // 4. Outlier detection: a replica that fails every request is ejected after three 503s in a row, comes back
            // when its ejection time is over (1 s, then 2 s), fails again and is ejected again. Retries hide every
            // failure from the app meanwhile.
            (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient("10.96.0.14", 100, pause: 0.05));
            Assert.True(code == 0, output);
            Assert.Equal(100, Tally(output).GetValueOrDefault("200 9001"));
            var ejections = MeshApps.Sum(MeshApps.Metrics(net.Client), "proxy_outlier_ejections_total", "cluster=\"ejecting\"");
            Assert.True(ejections >= 2, $"ejections of the failing replica over 5 s: {ejections} (ejected, returned and ejected again needs 2)");

            // 5. A server-first protocol on an opaque port, in strict mode: the client sidecar opens mutual TLS (ALPN
            // "istio") before any app byte, the server sidecar recognizes it although the port is never sniffed, and the
            // app's banner arrives. Before, an opaque port skipped TLS detection and strict mode refused the bytes.
            var (bannerCode, banner) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", ServerFirstClient);
            Assert.True(bannerCode == 0 && banner.Contains("220 server-first ready"), $"server-first on an opaque port: {banner}");
            Assert.Contains("connection_security_policy=\"mutual_tls\",destination_port=\"3306\"", MeshApps.Metrics(net.Server));

            // Opaque traffic is counted in Istio's TCP families on both sides, with both workloads as far as each knows
            // them (the caller knows the server by the identity it required; the server knows the caller's certificate).
            // With Istio's TCP metadata exchange (ALPN istio-peer-exchange) each side knows the other's workload too.
            Assert.True(MeshApps.Sum(MeshApps.Metrics(net.Client), "istio_tcp_connections_opened_total", "reporter=\"source\"",
                "source_workload=\"web\",source_workload_namespace=\"default\"", "destination_workload=\"orders\",destination_workload_namespace=\"default\",destination_principal=\"" + ServerId + "\",destination_app=\"orders\",destination_version=\"v1\"",
                "destination_service=\"db\"", "request_protocol=\"tcp\"") >= 1, MeshApps.Metrics(net.Client));
            Assert.True(MeshApps.Sum(MeshApps.Metrics(net.Server), "istio_tcp_connections_opened_total", "reporter=\"destination\"",
                "source_workload=\"web\",source_workload_namespace=\"default\",source_principal=\"" + ClientId + "\",source_app=\"web\",source_version=\"v3\"", "destination_workload=\"orders\"",
                "connection_security_policy=\"mutual_tls\"") >= 1, MeshApps.Metrics(net.Server));

            // 6. The server sidecar reloads a deny rule and a new version. The rule holds for the next request on the
            // connection already open between the sidecars (no new connection is made), and the version labels the
            // connections accepted after the reload.
            MeshApps.Must(MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient("10.96.0.10", 2))); // the connections are warm
            var connectionsBefore = MeshApps.Sum(MeshApps.Metrics(net.Server), "proxy_mesh_inbound_connections_total");
            File.WriteAllText(Path.Combine(dir, "server.yaml"), ServerConfig(dir, reloaded: true));
            var serverReload = System.Diagnostics.Stopwatch.StartNew();
            while (MeshApps.Sum(MeshApps.Metrics(net.Server), "proxy_config_reloads_total", "result=\"ok\"") < 1)
            {
                Assert.True(serverReload.Elapsed < TimeSpan.FromSeconds(15), "the server sidecar never reloaded its changed file");
                Thread.Sleep(200);
            }

            (code, output) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", KeepAliveClient("10.96.0.10", 1, path: "/private/"));
            Assert.True(code == 0 && output.TrimStart().StartsWith("403", StringComparison.Ordinal), $"a path the reloaded policy denies: {output}");
            var afterReload = MeshApps.Metrics(net.Server);
            Assert.Equal(connectionsBefore, MeshApps.Sum(afterReload, "proxy_mesh_inbound_connections_total"));
            Assert.True(MeshApps.Sum(afterReload, "proxy_mesh_inbound_denied_total", "reason=\"authorization\"") >= 1, afterReload);
            (bannerCode, banner) = MeshApps.AsApp(net.Client, MeshApps.Python, "-c", ServerFirstClient);
            Assert.True(bannerCode == 0 && banner.Contains("220 server-first ready"), banner);
            Assert.True(MeshApps.Sum(MeshApps.Metrics(net.Server), "istio_tcp_connections_opened_total", "reporter=\"destination\"",
                "destination_workload=\"orders\",destination_workload_namespace=\"default\"", "destination_version=\"v2\"") >= 1, MeshApps.Metrics(net.Server));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The access log once it holds <paramref name="needle"/> (the logger writes in the background).</summary>
    private static string WaitForLines(string path, string needle)
    {
        var text = "";
        for (var i = 0; i < 50 && !text.Contains(needle, StringComparison.Ordinal); i++)
        {
            Thread.Sleep(100);
            text = File.Exists(path) ? File.ReadAllText(path) : "";
        }

        Assert.Contains(needle, text);
        return text;
    }

    /// <summary>Counts the "status body" lines a <see cref="KeepAliveClient"/> printed.</summary>
    private static Dictionary<string, int> Tally(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .GroupBy(l => l).ToDictionary(g => g.Key, g => g.Count());

    private static string ServerConfig(string dir, bool reloaded = false) => $$"""
        admin: { address: 127.0.0.1:15000 }
        log: { access_log: {{dir}}/server-access.log }
        listeners: []
        clusters: []
        mesh:
          identity: { cert: {{dir}}/server/cert.pem, key: {{dir}}/server/key.pem, ca: {{dir}}/ca/ca.pem }
          opaque_ports: [ 3306 ]
          workload: { name: orders, namespace: default, app: orders, version: {{(reloaded ? "v2" : "v1")}} }
          inbound:
            port: 15006
            mode: strict
            authorization: {{(reloaded ? "[ { deny: { ports: [ 9001, 9002 ], paths: [ /private/ ] } }, { allow: {} } ]" : "[]")}}
          outbound: { port: 15001 }
        """;

    private static string ClientConfig(string dir) => $$"""
        admin: { address: 127.0.0.1:15000 }
        log: { access_log: {{dir}}/client-access.log }
        listeners: []
        clusters:
          - { name: api, endpoints: [ {{NetnsTopology.ServerAddress}}:9001, {{NetnsTopology.ServerAddress}}:9002 ] }
          - { name: api-v2, endpoints: [ {{NetnsTopology.ServerAddress}}:9003 ] }
          - { name: h2-app, endpoints: [ {{NetnsTopology.ServerAddress}}:8081 ] }
          - { name: db, endpoints: [ {{NetnsTopology.ServerAddress}}:3306 ] }
          - { name: grpc-app, endpoints: [ {{NetnsTopology.ServerAddress}}:50051 ] }
          - name: ejecting
            endpoints: [ {{NetnsTopology.ServerAddress}}:9001, {{NetnsTopology.ServerAddress}}:9004 ]
            outlier_detection: { consecutive_5xx: 3, interval: 1s, base_ejection_time: 1s }
        mesh:
          identity: { cert: {{dir}}/client/cert.pem, key: {{dir}}/client/key.pem, ca: {{dir}}/ca/ca.pem }
          opaque_ports: [ 3306 ]
          workload: { name: web, namespace: "${POD_NAMESPACE}", app: web, version: v3 }
          inbound: { port: 15006, mode: strict }
          outbound:
            port: 15001
            services:
              - { address: "10.96.0.10:80", cluster: api, host: orders.default.svc.cluster.local, identity: "{{ServerId}}" }
              - address: "10.96.0.11:80"
                cluster: api
                identity: "{{ServerId}}"
                protocol: http
                routes:
                  - split: [ { cluster: api, weight: 90 }, { cluster: api-v2, weight: 10 } ]
              - { address: "10.96.0.12:80", cluster: h2-app, identity: "{{ServerId}}" }
              - { address: "10.96.0.13:3306", cluster: db, identity: "{{ServerId}}", protocol: tcp }
              - { address: "10.96.0.14:80", cluster: ejecting, identity: "{{ServerId}}" }
              - { address: "10.96.0.15:80", cluster: grpc-app, identity: "{{ServerId}}", protocol: grpc }
        """;

    /// <summary>
    /// Four HTTP/1.1 keep-alive replicas answering their own port: 9001 and 9003 always 200; 9002 answers 503 to every
    /// sixth request it gets and closes the connection without an answer on another; 9004 answers 503 to everything.
    /// </summary>
    private const string ReplicasApp = """
        import http.server, socketserver, threading, itertools
        counter = itertools.count()
        lock = threading.Lock()
        def handler(port):
            class H(http.server.BaseHTTPRequestHandler):
                protocol_version = 'HTTP/1.1'
                def log_message(self, *a): pass
                def do_GET(self):
                    if port == 9004:
                        self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers(); return
                    if port == 9002:
                        with lock: n = next(counter)
                        if n % 6 == 1:
                            self.send_response(503); self.send_header('Content-Length', '0'); self.end_headers(); return
                        if n % 6 == 4:
                            self.close_connection = True; self.connection.close(); return
                    # The sidecars' own fields (the peer metadata, the original-protocol mark) must never reach the app.
                    leaked = [h for h in ('x-envoy-peer-metadata', 'x-envoy-peer-metadata-id', 'x-proxy-orig-proto') if h in self.headers]
                    body = (str(port) + (' leaked ' + ','.join(leaked) if leaked else '')).encode()
                    self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
                    self.wfile.write(body)
            return H
        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True
        servers = [S(('0.0.0.0', p), handler(p)) for p in (9001, 9002, 9003, 9004)]
        for s in servers[1:]:
            threading.Thread(target=s.serve_forever, daemon=True).start()
        servers[0].serve_forever()
        """;

    /// <summary>A server-first app (MySQL and SMTP speak first): a banner, then an echo.</summary>
    private const string ServerFirstApp = """
        import socket, threading
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(('0.0.0.0', 3306)); l.listen(16)
        def serve(c):
            c.sendall(b'220 server-first ready\r\n')
            while c.recv(4096): pass
            c.close()
        while True:
            c, _ = l.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
        """;

    private const string ServerFirstClient = """
        import socket
        c = socket.create_connection(('10.96.0.13', 3306), timeout=5)
        print(c.recv(100).decode().strip())
        """;

    /// <summary>The app: <paramref name="connections"/> keep-alive connections at once, <paramref name="requests"/> GETs each.</summary>
    private static string ParallelClient(string host, int connections, int requests) => $$"""
        import http.client, threading
        lines, lock = [], threading.Lock()
        def run(n):
            c = http.client.HTTPConnection('{{host}}', 80, timeout=10)
            for i in range({{requests.ToString(CultureInfo.InvariantCulture)}}):
                c.request('GET', '/parallel/%d/%d' % (n, i))
                r = c.getresponse()
                line = '%d %s' % (r.status, r.read().decode())
                with lock: lines.append(line)
        threads = [threading.Thread(target=run, args=(n,)) for n in range({{connections.ToString(CultureInfo.InvariantCulture)}})]
        for t in threads: t.start()
        for t in threads: t.join()
        print('\n'.join(lines))
        """;

    /// <summary>The app: <paramref name="count"/> GETs on one keep-alive connection, a "status body" line each.</summary>
    /// <summary>
    /// One keep-alive connection across a reload: a request (its answer not printed), then the file
    /// <paramref name="opened"/>, a wait for <paramref name="carryOn"/> (the test's signal that the sidecar reloaded),
    /// and <paramref name="count"/> more requests on the same connection, their answers printed.
    /// </summary>
    private static string AcrossReloadClient(string host, string opened, string carryOn, int count) => $$"""
        import http.client, os, time
        c = http.client.HTTPConnection('{{host}}', 80, timeout=10)
        c.request('GET', '/item/0'); c.getresponse().read()
        open('{{opened}}', 'w').close()
        deadline = time.time() + 30
        while not os.path.exists('{{carryOn}}'):
            if time.time() > deadline: raise SystemExit('no signal that the sidecar reloaded')
            time.sleep(0.05)
        for i in range({{count.ToString(CultureInfo.InvariantCulture)}}):
            c.request('GET', '/item/%d' % (i + 1))
            r = c.getresponse()
            print(r.status, r.read().decode())
        """;

    private static string KeepAliveClient(string host, int count, double pause = 0, string path = "/item/") => $$"""
        import http.client, time
        c = http.client.HTTPConnection('{{host}}', 80, timeout=10)
        for i in range({{count.ToString(CultureInfo.InvariantCulture)}}):
            c.request('GET', '{{path}}%d' % i)
            r = c.getresponse()
            print(r.status, r.read().decode())
            time.sleep({{pause.ToString(CultureInfo.InvariantCulture)}})
        """;
}
