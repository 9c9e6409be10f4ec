using System.Diagnostics;
using System.Text;

namespace Proxy.EndToEnd.Tests.Mesh;

/// <summary>
/// Two sidecars across Linux network namespaces, with the rules of <c>proxy init</c> and the
/// published binary: plain HTTP from the client app reaches the server app over mutual TLS,
/// authorization denies a path, an opaque server-first protocol passes through without stalling,
/// the server certificate rotates under traffic, and strict mode refuses plain text. Apps run as
/// uid 65534; the sidecars run as root and are excluded by <c>--proxy-uid 0</c>.
/// </summary>
public sealed class MeshNamespaceTests
{
    private static readonly string Python = MeshApps.Python;

    private const string Marker = "SECRET-MARKER-7f3a9c";
    private const string ClientId = "spiffe://mesh.test/ns/default/sa/client";
    private const string ServerId = "spiffe://mesh.test/ns/default/sa/server";

    [SkippableFact]
    public void Sidecars_AcrossNamespaces_MutualTlsAuthorizationOpaqueRotationStrict()
    {
        var reason = NetnsTopology.SkipReason();
        Skip.If(reason is not null, reason);
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY")!;
        var dir = Directory.CreateTempSubdirectory("proxy-mesh-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0x1ED); // 0755: the apps run as nobody
        }
        try
        {
            using var net = new NetnsTopology();
            Must(NetnsTopology.Run(binary, "certs", "ca", "--out", Path.Combine(dir, "ca")));
            Must(NetnsTopology.Run(binary, "certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", ClientId, "--out", Path.Combine(dir, "client"), "--ttl", "1h"));
            Must(NetnsTopology.Run(binary, "certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", ServerId, "--out", Path.Combine(dir, "server"), "--ttl", "1h"));

            // The server namespace's apps: an HTTP server and a server-first (SMTP-like) protocol.
            var www = Directory.CreateDirectory(Path.Combine(dir, "www")).FullName;
            File.WriteAllText(Path.Combine(www, "secret.txt"), Marker + "\n");
            net.Start(net.Server, Python, "-m", "http.server", "8080", "--directory", www);
            net.Start(net.Server, Python, "-c", ServerFirstApp);
            File.WriteAllText(Path.Combine(dir, "nginx.conf"), NginxConfig(dir));
            net.Start(net.Server, "nginx", "-c", Path.Combine(dir, "nginx.conf"), "-p", dir);

            File.WriteAllText(Path.Combine(dir, "server.yaml"), ServerConfig(dir, "permissive"));
            File.WriteAllText(Path.Combine(dir, "client.yaml"), ClientConfig(dir));
            foreach (var ns in new[] { net.Client, net.Server })
            {
                Must(NetnsTopology.Exec(ns, binary, "init", "--proxy-uid", "0", "--iptables-mode", "nft"));
            }

            var serverSidecar = net.Start(net.Server, binary, "run", "--config", Path.Combine(dir, "server.yaml"));
            net.Start(net.Client, binary, "run", "--config", Path.Combine(dir, "client.yaml"));
            Must(NetnsTopology.Exec(net.Server, binary, "wait-ready", "--admin", "127.0.0.1:15000", "--timeout", "20s"));
            Must(NetnsTopology.Exec(net.Client, binary, "wait-ready", "--admin", "127.0.0.1:15000", "--timeout", "20s"));
            WaitForPort(net.Server, 8080);
            WaitForPort(net.Server, 2525);
            WaitForPort(net.Server, 8081);
            WaitForPort(net.Server, 8082);

            // 1. Plain HTTP from the client app, mutual TLS on the wire.
            var capturePath = Path.Combine(dir, "veth.bin");
            var capture = net.Start(net.Server, Python, "-c", CaptureScript(net.ServerVeth, capturePath, seconds: 4));
            Thread.Sleep(700);
            var (code, body) = AsApp(net.Client, "curl", "-s", "-m", "10", $"http://{NetnsTopology.ServerAddress}:8080/secret.txt");
            Assert.True(code == 0 && body.Contains(Marker), $"through both sidecars: curl exit {code}: {body}");
            Assert.True(capture.WaitForExit(15_000), "packet capture did not finish");
            var wire = File.ReadAllBytes(capturePath);
            Assert.True(wire.Length > 0, "nothing captured on the veth");
            Assert.DoesNotContain(Marker, Encoding.Latin1.GetString(wire));
            Assert.DoesNotContain("GET /secret.txt", Encoding.Latin1.GetString(wire));
            Assert.True(IndexOf(wire, [0x17, 0x03, 0x03]) >= 0, "no TLS application data record seen on the veth");
            Assert.True(int.Parse(File.ReadAllText(capturePath + ".syns"), System.Globalization.CultureInfo.InvariantCulture) >= 1, "the capture saw no connection open");
            var metrics = Metrics(net.Server);
            Assert.Contains($"source_principal=\"{ClientId}\",destination_principal=\"{ServerId}\",connection_security_policy=\"mutual_tls\",destination_port=\"8080\"", metrics);

            // 2. Authorization: a denied path answers 403 and is counted.
            var (_, status) = AsApp(net.Client, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", $"http://{NetnsTopology.ServerAddress}:8080/forbidden/x");
            Assert.Equal("403", status.Trim());
            Assert.Contains($"proxy_mesh_inbound_denied_total{{source_principal=\"{ClientId}\",destination_port=\"8080\",reason=\"authorization\"}}", Metrics(net.Server));

            // Every request of a keep-alive connection is checked, not only the first: curl sends both
            // URLs over one connection; the allowed one passes, the denied one gets 403.
            var (_, both) = AsApp(net.Client, "curl", "-s", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code} ", "-m", "10",
                $"http://{NetnsTopology.ServerAddress}:8080/secret.txt", $"http://{NetnsTopology.ServerAddress}:8080/forbidden/again");
            Assert.Equal("200 403", both.Trim());

            // HTTP/2 (prior knowledge, as gRPC clients speak it) is checked per request too, and the allowed
            // request reaches the app over HTTP/2. Before, an HTTP/2 connection was judged as TCP and passed.
            // nghttp sends both requests on one connection and prints a status per path ("id ... code size path").
            var (_, h2) = AsApp(net.Client, "nghttp", "-ns", $"http://{NetnsTopology.ServerAddress}:8081/ok", $"http://{NetnsTopology.ServerAddress}:8081/forbidden/h2");
            var h2Codes = h2.Split('\n').Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length >= 6 && f[^1].StartsWith('/'))
                .ToDictionary(f => f[^1], f => f[^3]);
            Assert.True(h2Codes.GetValueOrDefault("/ok") == "200" && h2Codes.GetValueOrDefault("/forbidden/h2") == "403", h2);
            var (h2Code, h2Body) = AsApp(net.Client, "curl", "-s", "--http2-prior-knowledge", "-m", "10", $"http://{NetnsTopology.ServerAddress}:8081/ok");
            Assert.True(h2Code == 0 && h2Body.Contains("h2-app"), $"HTTP/2 through both sidecars: curl exit {h2Code}: {h2Body}");

            // The app learns its peer came over mutual TLS: the inbound sidecar sends X-Forwarded-Proto https, over
            // HTTP/1.1 and HTTP/2 alike (nginx answers the value it got).
            var (_, proto1) = AsApp(net.Client, "curl", "-s", "-m", "10", $"http://{NetnsTopology.ServerAddress}:8082/proto");
            Assert.Equal("https", proto1.Trim());
            var (_, proto2) = AsApp(net.Client, "curl", "-s", "--http2-prior-knowledge", "-m", "10", $"http://{NetnsTopology.ServerAddress}:8081/proto");
            Assert.Equal("https", proto2.Trim());

            // Rules see the path the app will act on: dot segments, doubled slashes and escaped letters do not
            // get around a denied prefix (the request is forwarded as sent; only the decision normalizes).
            foreach (var trick in new[] { "/secret.txt/../forbidden/x", "//forbidden/x", "/%66orbidden/x", "/./forbidden/x" })
            {
                var (_, trickStatus) = AsApp(net.Client, "curl", "-s", "--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10", $"http://{NetnsTopology.ServerAddress}:8080{trick}");
                Assert.True(trickStatus.Trim() == "403", $"{trick}: {trickStatus}");
            }

            // HTTP sent after detect_timeout is judged as TCP, where a deny rule's path condition holds for its
            // ports: the connection is closed, the app never sees the request. Before, it passed as opaque TCP.
            var (lateCode, late) = AsApp(net.Client, Python, "-c", LateRequestClient);
            Assert.True(lateCode == 0 && late.Trim() == "0", $"late request got an answer: {late}");

            // 3. Opaque passthrough of a server-first protocol: the banner arrives, no stall.
            var (bannerCode, banner) = AsApp(net.Client, Python, "-c", ServerFirstClient);
            Assert.True(bannerCode == 0 && banner.Contains("220 server-first ready"), $"server-first: {banner}");
            var elapsed = double.Parse(banner.Trim().Split(' ')[^1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(elapsed < 3, $"server-first banner took {elapsed}s");

            // 4. Rotation under traffic: requests keep succeeding; new handshakes get the new certificate.
            var before = ServerSerial(net.Client);
            File.WriteAllText(Path.Combine(dir, "traffic.txt"), "");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(Path.Combine(dir, "traffic.txt"), (UnixFileMode)0x1B6); // 0666: written by the app uid
            }

            var traffic = net.Start(net.Client, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "sh", "-c",
                $"for i in $(seq 25); do curl -s -m 5 -o /dev/null -w '%{{http_code}}\\n' http://{NetnsTopology.ServerAddress}:8080/secret.txt >> {dir}/traffic.txt; sleep 0.1; done");
            Thread.Sleep(800);
            Must(NetnsTopology.Run(binary, "certs", "issue", "--ca", Path.Combine(dir, "ca"), "--spiffe-id", ServerId, "--out", Path.Combine(dir, "server"), "--ttl", "2h"));
            Assert.True(traffic.WaitForExit(60_000), "traffic loop did not finish");
            var codes = File.ReadAllLines(Path.Combine(dir, "traffic.txt"));
            Assert.Equal(25, codes.Length);
            Assert.All(codes, c => Assert.Equal("200", c));
            var after = "";
            for (var i = 0; i < 20 && (after == "" || after == before); i++)
            {
                Thread.Sleep(250);
                after = ServerSerial(net.Client);
            }

            Assert.False(string.IsNullOrEmpty(before), "no server certificate seen before rotation");
            Assert.NotEqual(before, after);

            // 5. Strict: plain text (root bypasses the client sidecar) is refused; mTLS still works.
            NetnsTopology.Stop(serverSidecar);
            File.WriteAllText(Path.Combine(dir, "server.yaml"), ServerConfig(dir, "strict"));
            net.Start(net.Server, binary, "run", "--config", Path.Combine(dir, "server.yaml"));
            Must(NetnsTopology.Exec(net.Server, binary, "wait-ready", "--admin", "127.0.0.1:15000", "--timeout", "20s"));
            var (_, plain) = NetnsTopology.Exec(net.Client, "curl", "-s", "-m", "5", $"http://{NetnsTopology.ServerAddress}:8080/secret.txt");
            Assert.DoesNotContain(Marker, plain);
            var (strictCode, strictBody) = AsApp(net.Client, "curl", "-s", "-m", "10", $"http://{NetnsTopology.ServerAddress}:8080/secret.txt");
            Assert.True(strictCode == 0 && strictBody.Contains(Marker), $"mTLS under strict: curl exit {strictCode}: {strictBody}");
            Assert.Contains("reason=\"plaintext\"", Metrics(net.Server));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string ServerConfig(string dir, string mode) => $$"""
        admin: { address: 127.0.0.1:15000 }
        listeners: []
        clusters: []
        mesh:
          identity: { cert: {{dir}}/server/cert.pem, key: {{dir}}/server/key.pem, ca: {{dir}}/ca/ca.pem }
          detect_timeout: 200ms
          inbound:
            port: 15006
            mode: {{mode}}
            authorization:
              - deny: { ports: [ 8080, 8081 ], paths: [ /forbidden ] }
              - allow: {}
          outbound: { port: 15001 }
        """;

    private static string ClientConfig(string dir) => $$"""
        admin: { address: 127.0.0.1:15000 }
        listeners: []
        clusters:
          - { name: server-app, endpoints: [ {{NetnsTopology.ServerAddress}}:8080 ] }
          - { name: server-h2-app, endpoints: [ {{NetnsTopology.ServerAddress}}:8081 ] }
          - { name: server-h1-app, endpoints: [ {{NetnsTopology.ServerAddress}}:8082 ] }
        mesh:
          identity: { cert: {{dir}}/client/cert.pem, key: {{dir}}/client/key.pem, ca: {{dir}}/ca/ca.pem }
          inbound: { port: 15006, mode: permissive }
          outbound:
            port: 15001
            services:
              - { address: "{{NetnsTopology.ServerAddress}}:8080", cluster: server-app, identity: "{{ServerId}}" }
              - { address: "{{NetnsTopology.ServerAddress}}:8081", cluster: server-h2-app, identity: "{{ServerId}}" }
              - { address: "{{NetnsTopology.ServerAddress}}:8082", cluster: server-h1-app, identity: "{{ServerId}}" }
        """;

    /// <summary>
    /// The server namespace's nginx apps (one process, as root): h2c with prior knowledge on 8081, HTTP/1.1 on 8082;
    /// /proto on either answers the X-Forwarded-Proto it was sent.
    /// </summary>
    private static string NginxConfig(string dir) => MeshApps.NginxConfig(dir, """
            server {
                listen 0.0.0.0:8081 http2;
                location = /proto { return 200 "$http_x_forwarded_proto"; }
                location / { return 200 "h2-app"; }
            }
            server {
                listen 0.0.0.0:8082;
                location = /proto { return 200 "$http_x_forwarded_proto"; }
            }
        """);

    /// <summary>Connects, stays silent past the server's detect_timeout (200 ms), then asks for a denied path; prints the bytes answered.</summary>
    private const string LateRequestClient = """
        import socket, time
        c = socket.create_connection(('10.77.0.2', 8080), timeout=5)
        time.sleep(0.8)
        try:
            c.sendall(b'GET /forbidden/x HTTP/1.1\r\nHost: server\r\n\r\n')
            got = c.recv(4096)
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            got = b''
        print(len(got))
        """;

    private const string ServerFirstApp = """
        import socket, threading
        l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        l.bind(('0.0.0.0', 2525)); l.listen(16)
        def serve(c):
            c.sendall(b'220 server-first ready\r\n')
            while True:
                d = c.recv(4096)
                if not d: break
                c.sendall(d)
            c.close()
        while True:
            c, _ = l.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
        """;

    private const string ServerFirstClient = """
        import socket, time
        t = time.time()
        c = socket.create_connection(('10.77.0.2', 2525), timeout=5)
        d = c.recv(100)
        print(d.decode().strip(), round(time.time() - t, 2))
        """;

    private static string CaptureScript(string device, string path, int seconds) => MeshApps.CaptureScript(device, path, seconds);

    private static (int Code, string Output) AsApp(string ns, params string[] command) => MeshApps.AsApp(ns, command);

    private static string Metrics(string ns) => MeshApps.Metrics(ns);

    /// <summary>The serial of the certificate the server sidecar presents (root bypasses the client sidecar).</summary>
    private static string ServerSerial(string clientNs) =>
        NetnsTopology.Exec(clientNs, "sh", "-c", $"openssl s_client -connect {NetnsTopology.ServerAddress}:8080 </dev/null 2>/dev/null | openssl x509 -noout -serial").Output.Trim();

    private static void WaitForPort(string ns, int port) => MeshApps.WaitForPort(ns, port);

    private static void Must((int Code, string Output) result) => MeshApps.Must(result);

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);
}
