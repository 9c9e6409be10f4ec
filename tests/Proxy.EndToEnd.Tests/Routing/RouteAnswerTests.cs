using System.Net;
using System.Text;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Routing;

/// <summary>
/// Routes that answer by themselves (redirect, direct_response) over real sockets, for an HTTP/1.1 client and an
/// HTTP/2 client (h2c prior knowledge): the proxy answers, no cluster is touched, and the answer is recorded with its
/// route, no cluster and no response flag, as Envoy records a direct response.
/// </summary>
public sealed class RouteAnswerTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-route-answers-").FullName;
    private KestrelUpstream _backend = null!;

    public static TheoryData<string> Clients => new() { "h1", "h2" };

    private const string PageHtml = "<!doctype html><p>maintenance, back soon</p>\n";

    private string AccessLog => Path.Combine(_dir, "access.log");

    public async Task InitializeAsync()
    {
        _backend = await KestrelUpstream.StartAsync("backend");
        await File.WriteAllTextAsync(Path.Combine(_dir, "page.html"), PageHtml);
    }

    public async Task DisposeAsync()
    {
        await _backend.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private string Config(string extraRoutes = "") => $$"""
        admin: { address: 127.0.0.1:0 }
        log: { access_log: {{AccessLog}}, access_log_format: "%RESPONSE_CODE% %RESPONSE_FLAGS% %ROUTE_NAME% %UPSTREAM_CLUSTER% %PROTOCOL% %REQ(:PATH)%" }
        listeners:
          - name: web
            address: 127.0.0.1:0
            protocol: http
            routes:
        {{extraRoutes}}
              - { name: to-https, match: { path_prefix: /secure/ }, redirect: { https_redirect: true } }
              - { name: r301, match: { path_prefix: /r301/ }, redirect: { prefix_rewrite: /new/, status: 301 } }
              - { name: r302, match: { path_prefix: /r302/ }, redirect: { prefix_rewrite: /new/, status: 302 } }
              - { name: r303, match: { path_prefix: /r303/ }, redirect: { prefix_rewrite: /new/, status: 303 } }
              - { name: r307, match: { path_prefix: /r307/ }, redirect: { prefix_rewrite: /new/, status: 307 } }
              - { name: r308, match: { path_prefix: /r308/ }, redirect: { prefix_rewrite: /new/, status: 308 } }
              - { name: v1, match: { path_prefix: /v1/ }, redirect: { scheme: https, host: api.example, port: 8443, prefix_rewrite: /api/v1/, strip_query: true, status: 308 } }
              - { name: moved, match: { path_exact: /old }, redirect: { path: /new-home } }
              - { name: maintenance, match: { path_prefix: /down }, direct_response: { status: 503, body: "down for maintenance\n" } }
              - { name: page, match: { path_prefix: /page }, direct_response: { status: 200, body_file: {{Path.Combine(_dir, "page.html")}}, content_type: "text/html; charset=utf-8" } }
              - { name: healthz, match: { path_exact: /healthz }, direct_response: { status: 204 } }
              - { name: forward, match: { path_prefix: / }, cluster: backend }
        clusters:
          - { name: backend, endpoints: [ {{_backend.Address}} ] }
        """;

    /// <summary>A client that does not follow redirects: HTTP/1.1, or HTTP/2 with prior knowledge for "h2".</summary>
    private static HttpClient Client(RunningProxy proxy, string client) => new(new SocketsHttpHandler { AllowAutoRedirect = false, EnableMultipleHttp2Connections = false })
    {
        BaseAddress = new Uri($"http://{proxy.Listener("web")}"),
        DefaultRequestVersion = client == "h2" ? HttpVersion.Version20 : HttpVersion.Version11,
        DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>A request in the client's version (a message's Version is its own: the client's default applies only to GetAsync and the like).</summary>
    private static HttpRequestMessage Request(string client, HttpMethod method, string path, string? host = null, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path)
        {
            Version = client == "h2" ? HttpVersion.Version20 : HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static HttpRequestMessage WithContent(HttpRequestMessage request, HttpContent content)
    {
        request.Content = content;
        return request;
    }

    private static string Requests(string route, string status, string cluster = "-", string flag = "-") =>
        $"istio_requests_total{{reporter=\"source\",listener=\"web\",route=\"{route}\",destination_service=\"{cluster}\",request_protocol=\"http\",response_code=\"{status}\",response_flags=\"{flag}\"}}";

    private static async Task AssertRedirectAsync(HttpResponseMessage response, int status, string location, string client)
    {
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
        Assert.Equal(client == "h2" ? HttpVersion.Version20 : HttpVersion.Version11, response.Version);
        Assert.Equal(location, response.Headers.Location!.OriginalString);
        Assert.Equal(0, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.False(response.Headers.Contains("x-proxy-error")); // configured, not an error
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Redirect_EachStatus_LocationFromTheRequestNoBodyNoUpstream(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config());
        using var http = Client(proxy, client);

        foreach (int status in new[] { 301, 302, 303, 307, 308 })
        {
            using var response = await http.SendAsync(Request(client, HttpMethod.Get, $"/r{status}/a/b?x=1&y=2", host: "shop.example:8080"));
            await AssertRedirectAsync(response, status, "http://shop.example:8080/new/a/b?x=1&y=2", client);
        }

        // Every answer on the one connection, none from the backend.
        using (var forwarded = await http.GetAsync("/hello"))
        {
            Assert.Equal("hello from backend", await forwarded.Content.ReadAsStringAsync());
        }

        Assert.Equal(1, _backend.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        foreach (int status in new[] { 301, 302, 303, 307, 308 })
        {
            Assert.Equal(1, metrics.Value(Requests($"r{status}", status.ToString())));
        }
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Redirect_HttpsRedirect_SchemeReplacedPortAsEnvoyKeepsIt(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config());
        using var http = Client(proxy, client);

        using (var onDefaultPort = await http.SendAsync(Request(client, HttpMethod.Get, "/secure/cart?item=7", host: "shop.example:80")))
        {
            await AssertRedirectAsync(onDefaultPort, 301, "https://shop.example/secure/cart?item=7", client);
        }

        using (var noPort = await http.SendAsync(Request(client, HttpMethod.Get, "/secure/", host: "shop.example")))
        {
            await AssertRedirectAsync(noPort, 301, "https://shop.example/secure/", client);
        }

        using (var otherPort = await http.GetAsync("/secure/x"))
        {
            await AssertRedirectAsync(otherPort, 301, $"https://{proxy.Listener("web")}/secure/x", client);
        }

        // A POST with a body is redirected too (the connection of an HTTP/1.1 client closes: its body is left unread).
        using (var post = await http.SendAsync(WithContent(Request(client, HttpMethod.Post, "/secure/pay"), new StringContent("card=1"))))
        {
            Assert.Equal(HttpStatusCode.MovedPermanently, post.StatusCode);
        }

        Assert.Equal(0, _backend.Requests);
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task Redirect_EveryPartReplaced_PrefixRewrittenQueryStripped(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config());
        using var http = Client(proxy, client);

        using (var response = await http.SendAsync(Request(client, HttpMethod.Get, "/v1/users/7?expand=true", host: "old.example")))
        {
            await AssertRedirectAsync(response, 308, "https://api.example:8443/api/v1/users/7", client);
        }

        using (var moved = await http.SendAsync(Request(client, HttpMethod.Get, "/old?keep=1", host: "old.example")))
        {
            await AssertRedirectAsync(moved, 301, "http://old.example/new-home?keep=1", client);
        }

        Assert.Equal(0, _backend.Requests);
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task DirectResponse_InlineAndFile_StatusTypeAndBody(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config());
        using var http = Client(proxy, client);

        using (var down = await http.GetAsync("/down/anything"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.Equal("text/plain", down.Content.Headers.ContentType!.ToString());
            Assert.Equal(21, down.Content.Headers.ContentLength);
            Assert.Equal("down for maintenance\n", await down.Content.ReadAsStringAsync());
            Assert.False(down.Headers.Contains("x-proxy-error"));
        }

        using (var page = await http.GetAsync("/page"))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html; charset=utf-8", page.Content.Headers.ContentType!.ToString());
            Assert.Equal(Encoding.UTF8.GetByteCount(PageHtml), page.Content.Headers.ContentLength);
            Assert.Equal(PageHtml, await page.Content.ReadAsStringAsync());
        }

        using (var health = await http.GetAsync("/healthz"))
        {
            Assert.Equal(HttpStatusCode.NoContent, health.StatusCode);
            Assert.False(health.Content.Headers.NonValidated.Contains("Content-Length")); // RFC 9110 8.6: never on a 204
            Assert.Empty(await health.Content.ReadAsByteArrayAsync());
        }

        Assert.Equal(0, _backend.Requests);
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value(Requests("maintenance", "503")));
        Assert.Equal(1, metrics.Value(Requests("page", "200")));
        Assert.Equal(1, metrics.Value(Requests("healthz", "204")));
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task DirectResponse_Head_LengthWithoutBodyAndTheConnectionGoesOn(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config());
        using var http = Client(proxy, client);

        for (int i = 0; i < 2; i++)
        {
            using (var head = await http.SendAsync(Request(client, HttpMethod.Head, "/page")))
            {
                Assert.Equal(HttpStatusCode.OK, head.StatusCode);
                Assert.Equal(Encoding.UTF8.GetByteCount(PageHtml), head.Content.Headers.ContentLength);
                Assert.Empty(await head.Content.ReadAsByteArrayAsync());
            }

            // Had the HEAD answer carried a body, this answer would be read from the middle of it.
            using var get = await http.GetAsync("/down");
            Assert.Equal("down for maintenance\n", await get.Content.ReadAsStringAsync());
        }
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task LocalAnswers_AccessLogNamesTheRouteNoClusterNoFlag(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config());
        using var http = Client(proxy, client);

        using (await http.GetAsync("/r302/x")) { }
        using (await http.GetAsync("/down")) { }

        string protocol = client == "h2" ? "HTTP/2" : "HTTP/1.1";
        string[] lines = [];
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            lines = File.Exists(AccessLog) ? await File.ReadAllLinesAsync(AccessLog) : [];
            return lines.Length >= 2;
        }, TimeSpan.FromSeconds(15)), "no access log lines");
        Assert.Equal([$"302 - r302 - {protocol} /r302/x", $"503 - maintenance - {protocol} /down"], lines);
    }

    [Theory]
    [MemberData(nameof(Clients))]
    public async Task DirectResponse_RateLimitedRoute_FiltersApplyFirst(string client)
    {
        await using var proxy = await RunningProxy.StartAsync(Config(
            "      - { name: limited, match: { path_prefix: /limited }, direct_response: { status: 200, body: ok }, rate_limit: { requests_per_second: 1, burst: 1 } }"));
        using var http = Client(proxy, client);

        using (var first = await http.GetAsync("/limited"))
        {
            Assert.Equal("ok", await first.Content.ReadAsStringAsync());
        }

        using (var second = await http.GetAsync("/limited"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            Assert.Equal("rate-limited", second.Headers.GetValues("x-proxy-error").Single());
        }

        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value(Requests("limited", "429", flag: "RL")));
    }

    [Fact]
    public async Task DirectResponse_GrpcClient_GetsTheConfiguredAnswerAsIs()
    {
        await using var proxy = await RunningProxy.StartAsync(Config());
        using var http = Client(proxy, "h2");

        using var request = Request("h2", HttpMethod.Post, "/down/pkg.Service/Method");
        request.Content = new ByteArrayContent([0, 0, 0, 0, 0]);
        request.Content.Headers.ContentType = new("application/grpc");
        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("down for maintenance\n", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("grpc-status"));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value(Requests("maintenance", "503").Replace("request_protocol=\"http\"", "request_protocol=\"grpc\"")));
    }
}
