using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Proxy.EndToEnd.Tests.Http2;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>
/// X-Forwarded-For, X-Forwarded-Proto and the upstream's <c>:scheme</c> on every pairing of client and upstream
/// protocol (HTTP/1.1 and HTTP/2 clients, http1 and http2 clusters), on plain and TLS listeners, with real clients and
/// upstreams that record every field they were sent.
/// </summary>
public sealed class ForwardedFieldsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-xfwd-e2e-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("xfwd e2e CA", TimeSpan.FromDays(1));

    public ForwardedFieldsTests() => _ca.Save(Path.Combine(_dir, "ca"));

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    /// <summary>The client ("h1": HTTP/1.1, "h2": HTTP/2) and the cluster's protocol: the four pairings.</summary>
    public static TheoryData<string, string> Pairings => new()
    {
        { "h1", "http1" },
        { "h1", "http2" },
        { "h2", "http1" },
        { "h2", "http2" },
    };

    /// <summary>The four pairings, each on a plain listener and on a TLS one.</summary>
    public static TheoryData<string, string, bool> PairingsPlainAndTls
    {
        get
        {
            var data = new TheoryData<string, string, bool>();
            foreach (var downstream in new[] { "h1", "h2" })
            {
                foreach (var upstream in new[] { "http1", "http2" })
                {
                    data.Add(downstream, upstream, false);
                    data.Add(downstream, upstream, true);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PairingsPlainAndTls))]
    public async Task XForwardedProto_SchemeOfTheClientsConnection_ReplacesTheClients(string downstream, string upstreamProtocol, bool tls)
    {
        await using var upstream = RecordingUpstream.Start(upstreamProtocol);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, upstreamProtocol, listenerExtra: tls ? ListenerTls() : ""));
        using var client = Client(proxy, tls);

        // The client claims the other scheme: the proxy's view of its own connection wins.
        using var request = Get(downstream, "/proto", ("x-forwarded-proto", tls ? "http" : "https"));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(request.Version, response.Version);

        var fields = Assert.Single(upstream.Received);
        Assert.Equal(tls ? "https" : "http", Assert.Single(fields, f => f.Name == "x-forwarded-proto").Value);
    }

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task XForwardedFor_ChainLongerThanTwoKiB_KeptWholeWithTheClientAppended(string downstream, string upstreamProtocol)
    {
        await using var upstream = RecordingUpstream.Start(upstreamProtocol);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, upstreamProtocol));
        using var client = Client(proxy, tls: false);

        // 400 hops, about 4.5 KiB: past any small fixed buffer, well inside the 64 KiB header limit.
        var chain = string.Join(", ", Enumerable.Range(0, 400).Select(i => $"10.{i / 256}.{i % 256}.1"));
        Assert.True(chain.Length > 4096);
        using var request = Get(downstream, "/chain", ("x-forwarded-for", chain));
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var fields = Assert.Single(upstream.Received);
        Assert.Equal(chain + ", 127.0.0.1", Assert.Single(fields, f => f.Name == "x-forwarded-for").Value);
    }

    /// <summary>
    /// Several X-Forwarded-For fields are one list (RFC 9110 5.3): all of them, in order, then the client. HttpClient
    /// joins repeated values into one field itself, so the client here is a raw one.
    /// </summary>
    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task XForwardedFor_SeveralFields_AllJoinedInOrderWithTheClientAppended(string downstream, string upstreamProtocol)
    {
        await using var upstream = RecordingUpstream.Start(upstreamProtocol);
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, upstreamProtocol));
        if (downstream == "h1")
        {
            using var socket = await TcpClientHelpers.ConnectAsync(proxy.Listener("web"));
            await socket.SendAsync("GET /chain HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-For: 203.0.113.1\r\nUser-Agent: chain-test\r\n"
                + "X-Forwarded-For: 198.51.100.2, 192.0.2.3\r\nConnection: close\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 200", await socket.ReadToEndAsync());
        }
        else
        {
            using var client = await RawHttp2Client.ConnectAsync(proxy.Listener("web"));
            client.Headers(1, client.RequestBlock("GET", "/chain", ("x-forwarded-for", "203.0.113.1"), ("user-agent", "chain-test"), ("x-forwarded-for", "198.51.100.2, 192.0.2.3")), endStream: true);
            await client.FlushAsync();
            var events = await client.ReadStreamAsync(1);
            Assert.Equal("200", events.Status(0));
        }

        var fields = Assert.Single(upstream.Received);
        Assert.Equal("203.0.113.1, 198.51.100.2, 192.0.2.3, 127.0.0.1", Assert.Single(fields, f => f.Name == "x-forwarded-for").Value);
        Assert.Equal("chain-test", Assert.Single(fields, f => f.Name == "user-agent").Value);
    }

    /// <summary>
    /// An HTTP/2 upstream is sent the scheme of the proxy's connection to it (RFC 9113 8.3.1), whatever the client's:
    /// <c>http</c> to an h2c cluster although the client came over TLS (its own <c>:scheme</c> was <c>https</c>).
    /// </summary>
    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task Scheme_PlainHttp2Cluster_HttpAlthoughTheClientCameOverTls(string downstream)
    {
        await using var upstream = RecordingUpstream.Start("http2");
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single(upstream.Address, "http2", listenerExtra: ListenerTls()));
        using var client = Client(proxy, tls: true);

        using var request = Get(downstream, "/scheme");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var fields = Assert.Single(upstream.Received);
        Assert.Equal("http", Assert.Single(fields, f => f.Name == ":scheme").Value);
        Assert.Equal("https", Assert.Single(fields, f => f.Name == "x-forwarded-proto").Value);
    }

    /// <summary>
    /// An http2 cluster with <c>tls</c> is reached over TLS (ALPN h2) and sent <c>:scheme https</c>, which Kestrel
    /// checks against its connection (a mismatch resets the stream), from plain-text clients of either protocol.
    /// </summary>
    [Theory]
    [InlineData("h1")]
    [InlineData("h2")]
    public async Task Scheme_TlsHttp2Cluster_HttpsOverTls(string downstream)
    {
        var server = Issue("upstream", "upstream.test");
        await using var app = await StartHttpsHttp2UpstreamAsync(server.Cert, server.Key);
        var port = app.Urls.Select(u => new Uri(u).Port).First();
        await using var proxy = await RunningProxy.StartAsync(Http2Configs.Single($"127.0.0.1:{port}", "http2",
            clusterExtra: $"    tls: {{ sni: upstream.test, ca: {Path.Combine(_dir, "ca", "ca.pem")} }}"));
        using var client = Client(proxy, tls: false);

        for (var i = 0; i < 2; i++)
        {
            using var request = Get(downstream, "/whoami");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("https HTTP/2 upstream.test http", await response.Content.ReadAsStringAsync());
        }
    }

    /// <summary>A client of listener "web" (HTTP/1.1 and HTTP/2 alike: each request names its version), trusting any certificate.</summary>
    private static HttpClient Client(RunningProxy proxy, bool tls) => new(new SocketsHttpHandler
    {
        EnableMultipleHttp2Connections = false,
        SslOptions = { RemoteCertificateValidationCallback = static (_, _, _, _) => true },
    })
    {
        BaseAddress = new Uri($"{(tls ? "https" : "http")}://{proxy.Listener("web")}"),
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A GET over HTTP/2 ("h2": h2c, or ALPN h2 over TLS) or HTTP/1.1, exactly.</summary>
    private static HttpRequestMessage Get(string downstream, string path, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path)
        {
            Version = downstream == "h2" ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    /// <summary>The listener's <c>tls</c> key (see <see cref="Http2Configs.Single"/>): one certificate, ALPN h2 and http/1.1.</summary>
    private string ListenerTls()
    {
        var (cert, key) = Issue("listener", "proxy.test");
        return $"    tls: {{ certificates: [ {{ cert: {cert}, key: {key} }} ] }}";
    }

    private (string Cert, string Key) Issue(string name, params string[] dns)
    {
        using var workload = _ca.Issue(SpiffeId.Parse($"spiffe://e2e.test/{name}"), TimeSpan.FromHours(1), dns);
        workload.Save(Path.Combine(_dir, name));
        return (Path.Combine(_dir, name, "cert.pem"), Path.Combine(_dir, name, "key.pem"));
    }

    /// <summary>Kestrel speaking only HTTP/2 over TLS; /whoami answers the request's scheme, protocol, SNI and X-Forwarded-Proto.</summary>
    private static async Task<WebApplication> StartHttpsHttp2UpstreamAsync(string cert, string key)
    {
        var certificate = X509Certificate2.CreateFromPemFile(cert, key);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        string? serverName = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
        {
            o.Protocols = HttpProtocols.Http2;
            o.UseHttps(https => https.ServerCertificateSelector = (_, name) =>
            {
                serverName = name;
                return certificate;
            });
        }));
        var app = builder.Build();
        app.MapGet("/whoami", (HttpContext context) =>
            $"{context.Request.Scheme} {context.Request.Protocol} {serverName} {context.Request.Headers["x-forwarded-proto"]}");
        await app.StartAsync();
        return app;
    }

    /// <summary>
    /// An upstream that records the fields of every request (names lower-cased, in the order received; pseudo-headers
    /// too over HTTP/2) and answers 200 "ok": <see cref="ScriptedHttp1Upstream"/> or <see cref="RawHttp2Upstream"/>.
    /// </summary>
    private sealed class RecordingUpstream : IAsyncDisposable
    {
        private readonly ScriptedHttp1Upstream? _http1;
        private readonly RawHttp2Upstream? _http2;

        private RecordingUpstream(string protocol)
        {
            if (protocol == "http2")
            {
                _http2 = RawHttp2Upstream.Start(exchange =>
                {
                    Received.Enqueue(exchange.Headers);
                    return exchange.RespondAsync(200, "ok");
                });
            }
            else
            {
                _http1 = ScriptedHttp1Upstream.Start(exchange =>
                {
                    Received.Enqueue(exchange.Head.Split("\r\n").Skip(1).Where(l => l.Length > 0)
                        .Select(l => (l[..l.IndexOf(':')].ToLowerInvariant(), l[(l.IndexOf(':') + 1)..].Trim())).ToList());
                    return exchange.SendAsync("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                });
            }
        }

        public string Address => _http1?.Address ?? _http2!.Address;

        /// <summary>The fields of each request, in arrival order.</summary>
        public ConcurrentQueue<List<(string Name, string Value)>> Received { get; } = new();

        public static RecordingUpstream Start(string protocol) => new(protocol);

        public async ValueTask DisposeAsync()
        {
            if (_http1 is not null)
            {
                await _http1.DisposeAsync();
            }

            if (_http2 is not null)
            {
                await _http2.DisposeAsync();
            }
        }
    }
}
