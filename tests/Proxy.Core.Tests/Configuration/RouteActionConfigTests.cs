using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

/// <summary>The route actions that answer without forwarding (redirect, direct_response) and fault.header_control.</summary>
public class RouteActionConfigTests
{
    private const string Clusters = "\nclusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] } ]";

    private static string Listener(string route) => $"listeners:\n  - name: web\n    address: 127.0.0.1:80\n    routes:\n      - {route}{Clusters}";

    private static RouteConfig Route(string route) => ConfigTestData.LoadValid(Listener(route)).Listeners[0].Routes[0];

    [Fact]
    public void Redirect_EveryKey_Bound()
    {
        var route = Route("{ match: { path_prefix: /v1/ }, redirect: { scheme: HTTPS, host: B.example, port: 8443, prefix_rewrite: /api/v1/, strip_query: true, status: 308 } }");

        Assert.Equal(new RedirectConfig { Scheme = "https", Host = "b.example", Port = 8443, PrefixRewrite = "/api/v1/", StripQuery = true, Status = 308 }, route.Redirect);
        Assert.Null(route.Cluster);
        Assert.Empty(route.Split);
        Assert.True(route.AnswersLocally);
    }

    [Fact]
    public void Redirect_HttpsOnly_Defaults301()
    {
        var redirect = Route("{ redirect: { https_redirect: true } }").Redirect!;
        Assert.True(redirect.HttpsRedirect);
        Assert.Equal(301, redirect.Status);
        Assert.False(redirect.StripQuery);
        Assert.Null(redirect.Port);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public void Redirect_EachStatus_Accepted(int status) =>
        Assert.Equal(status, Route($"{{ redirect: {{ path: /x, status: {status} }} }}").Redirect!.Status);

    [Theory]
    [InlineData("'[2001:DB8::1]'", "[2001:db8::1]")]
    [InlineData("'2001:db8::1'", "[2001:db8::1]")] // bare: bracketed for the Location's authority
    [InlineData("'[::1]'", "[::1]")]
    public void Redirect_Ipv6Host_BoundBracketed(string host, string bound) =>
        Assert.Equal(bound, Route($"{{ redirect: {{ host: {host}, port: 8443 }} }}").Redirect!.Host);

    [Fact]
    public void DirectResponse_Inline_BoundWithItsBytes()
    {
        var direct = Route("{ direct_response: { status: 503, body: \"down, back soon\", content_type: text/html } }").DirectResponse!;
        Assert.Equal(503, direct.Status);
        Assert.Equal("down, back soon"u8.ToArray(), direct.Body!.Memory.ToArray());
        Assert.Null(direct.BodyFile);
        Assert.Equal("text/html", direct.ContentType);
    }

    [Fact]
    public void DirectResponse_BodyFile_ReadAtLoadRelativeToTheConfig()
    {
        string dir = Directory.CreateTempSubdirectory("route-actions-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "maintenance.html"), [0x3c, 0x70, 0x3e, 0xff]);
            var result = ConfigLoader.LoadText(Listener("{ direct_response: { status: 503, body_file: maintenance.html } }"), Path.Combine(dir, "proxy.yaml"));
            Assert.True(result.Success, string.Join("\n", result.Errors));
            var direct = result.Config!.Listeners[0].Routes[0].DirectResponse!;
            Assert.Equal(Path.Combine(dir, "maintenance.html"), direct.BodyFile);
            Assert.Equal(new byte[] { 0x3c, 0x70, 0x3e, 0xff }, direct.Body!.Memory.ToArray());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void DirectResponse_MissingBodyFile_ErrorNamesTheFileAtItsKey()
    {
        var error = ConfigTestData.SingleError(Listener("{ direct_response: { status: 503, body_file: no-such-page.html } }"));
        Assert.Equal("listeners[0].routes[0].direct_response.body_file", error.Path);
        Assert.Contains("the body file " + ConfigTestData.PathOf("no-such-page.html") + " does not exist", error.Message);
        Assert.Equal(5, error.Line);
    }

    [Fact]
    public void DirectResponse_BodyFileTooLarge_ErrorSaysTheCap()
    {
        string dir = Directory.CreateTempSubdirectory("route-actions-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "big.html"), new byte[DirectResponseConfig.MaxBodyBytes + 1]);
            var result = ConfigLoader.LoadText(Listener("{ direct_response: { status: 200, body_file: big.html } }"), Path.Combine(dir, "proxy.yaml"));
            var error = Assert.Single(result.Errors);
            Assert.Equal("listeners[0].routes[0].direct_response.body_file", error.Path);
            Assert.Contains("is 4097 bytes, more than the 4096 a direct response may have", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("{ cluster: a, redirect: { https_redirect: true } }", "routes[0].redirect", "either 'cluster' or 'redirect', not both")]
    [InlineData("{ split: [ { cluster: a, weight: 1 } ], direct_response: { status: 200 } }", "routes[0].direct_response", "either 'split' or 'direct_response', not both")]
    [InlineData("{ redirect: { path: /x }, direct_response: { status: 200 } }", "routes[0].direct_response", "either 'redirect' or 'direct_response', not both")]
    [InlineData("{ match: { path_prefix: / } }", "routes[0].cluster", "or 'redirect' or 'direct_response' to answer itself")]
    [InlineData("{ redirect: { path: /x }, retries: { attempts: 2 } }", "routes[0].retries", "a route with 'redirect' forwards nothing, so 'retries' has no effect")]
    [InlineData("{ direct_response: { status: 200 }, timeout: 1s }", "routes[0].timeout", "a route with 'direct_response' forwards nothing, so 'timeout' has no effect")]
    [InlineData("{ direct_response: { status: 200 }, mirror: { cluster: a } }", "routes[0].mirror", "forwards nothing, so 'mirror' has no effect")]
    [InlineData("{ redirect: { path: /x }, prefix_rewrite: /y/ }", "routes[0].prefix_rewrite", "a route with 'redirect' forwards nothing, so 'prefix_rewrite' has no effect")]
    [InlineData("{ direct_response: { status: 200 }, host_rewrite: b.example }", "routes[0].host_rewrite", "forwards nothing, so 'host_rewrite' has no effect")]
    [InlineData("{ direct_response: { status: 200 }, request_headers: { set: { x-a: b } } }", "routes[0].request_headers", "forwards nothing, so 'request_headers' has no effect")]
    [InlineData("{ redirect: { status: 200 } }", "routes[0].redirect.status", "200 is not a redirect status; use 301, 302, 303, 307 or 308")]
    [InlineData("{ redirect: { status: 304 } }", "routes[0].redirect.status", "304 is not a redirect status")]
    [InlineData("{ redirect: { status: soon } }", "routes[0].redirect.status", "expected a whole number, found 'soon'")]
    [InlineData("{ redirect: { path: /a, prefix_rewrite: /b/ } }", "routes[0].redirect.prefix_rewrite", "set either 'path' (the whole path) or 'prefix_rewrite' (the matched prefix), not both")]
    [InlineData("{ match: { path_exact: /a }, redirect: { prefix_rewrite: /b/ } }", "routes[0].redirect.prefix_rewrite", "matches path_exact; use 'path' instead")]
    [InlineData("{ redirect: { https_redirect: true, scheme: ftp } }", "routes[0].redirect.scheme", "either 'https_redirect: true' or 'scheme', not both")]
    [InlineData("{ redirect: { https_redirect: false } }", "routes[0].redirect.https_redirect", "only 'https_redirect: true' means something")]
    [InlineData("{ redirect: { https_redirect: maybe } }", "routes[0].redirect.https_redirect", "expected true or false, found 'maybe'")]
    [InlineData("{ redirect: { scheme: '1http' } }", "routes[0].redirect.scheme", "is not a URI scheme")]
    [InlineData("{ redirect: { host: 'b.example:8080' } }", "routes[0].redirect.host", "write the port under 'port'")]
    [InlineData("{ redirect: { host: '[::1]:8080' } }", "routes[0].redirect.host", "is not a host name, an IPv4 address or an IPv6 address")]
    [InlineData("{ redirect: { port: 70000 } }", "routes[0].redirect.port", "70000 is out of range (1 to 65535)")]
    [InlineData("{ redirect: { path: new } }", "routes[0].redirect.path", "'new' must start with '/'")]
    [InlineData("{ redirect: { path: '/a b' } }", "routes[0].redirect.path", "must not contain spaces, control or non-ASCII characters")]
    [InlineData("{ redirect: { path: '/a#top' } }", "routes[0].redirect.path", "must not contain '#'")]
    [InlineData("{ redirect: { prefix_rewrite: '/a?b' } }", "routes[0].redirect.prefix_rewrite", "must not contain '?'")]
    [InlineData("{ redirect: { strip_query: maybe } }", "routes[0].redirect.strip_query", "expected true or false, found 'maybe'")]
    [InlineData("{ redirect: { https: true } }", "routes[0].redirect.https", "unknown key 'https'; allowed keys: https_redirect, scheme, host, port, path, prefix_rewrite, strip_query, status")]
    [InlineData("{ redirect: /elsewhere }", "routes[0].redirect", "expected a mapping, found a scalar")]
    [InlineData("{ direct_response: { body: x } }", "routes[0].direct_response.status", "missing required key 'status'")]
    [InlineData("{ direct_response: { status: 600 } }", "routes[0].direct_response.status", "600 is out of range (200 to 599)")]
    [InlineData("{ direct_response: { status: 200, body: x, body_file: a.html } }", "routes[0].direct_response.body_file", "set either 'body' (inline) or 'body_file', not both")]
    [InlineData("{ direct_response: { status: 204, body: x } }", "routes[0].direct_response.body", "a 204 response has no body")]
    [InlineData("{ direct_response: { status: 200, content_type: ' text/plain' } }", "routes[0].direct_response.content_type", "is not a field value")]
    [InlineData("{ direct_response: { status: 200, headers: { a: b } } }", "routes[0].direct_response.headers", "unknown key 'headers'; allowed keys: status, body, body_file, content_type")]
    [InlineData("{ cluster: a, fault: { abort: { status: 503 }, header_control: yes } }", "routes[0].fault.header_control", "expected true or false, found 'yes'")]
    public void LoadText_BadRouteAction_OneErrorAtItsKey(string route, string path, string message)
    {
        var error = ConfigTestData.SingleError(Listener(route));

        Assert.Equal("listeners[0]." + path, error.Path);
        Assert.Contains(message, error.Message);
        Assert.Equal(5, error.Line);
        Assert.True(error.Column > 8, error.ToString());
        Assert.StartsWith(ConfigTestData.PathOf("inline.yaml") + ":5:", error.ToString());
    }

    [Fact]
    public void DirectResponse_InlineBodyOverTheCap_Error()
    {
        var error = ConfigTestData.SingleError(Listener($"{{ direct_response: {{ status: 200, body: {new string('x', 4097)} }} }}"));
        Assert.Equal("listeners[0].routes[0].direct_response.body", error.Path);
        Assert.Contains("the body is 4097 bytes, more than the 4096 a direct response may have", error.Message);
    }

    [Fact]
    public void LoadText_SeveralMistakes_EveryOneReported()
    {
        var result = ConfigTestData.Load(Listener("{ cluster: a, redirect: { path: /a, prefix_rewrite: /b/, status: 200, colour: red } }"));
        string all = string.Join("\n", result.Errors);
        Assert.Equal(4, result.Errors.Count);
        Assert.Contains("routes[0].redirect: a route takes either 'cluster' or 'redirect'", all);
        Assert.Contains("routes[0].redirect.prefix_rewrite: set either 'path'", all);
        Assert.Contains("routes[0].redirect.status: 200 is not a redirect status", all);
        Assert.Contains("routes[0].redirect.colour: unknown key 'colour'", all);
    }

    [Fact]
    public void Fault_HeaderControl_OffByDefaultOnWhenSet()
    {
        Assert.False(Route("{ cluster: a, fault: { abort: { status: 503 } } }").Fault!.HeaderControl);
        Assert.True(Route("{ cluster: a, fault: { abort: { status: 503 }, header_control: true } }").Fault!.HeaderControl);
    }

    [Fact]
    public void ToJson_RouteActions_ReloadToEqualModel()
    {
        string dir = Directory.CreateTempSubdirectory("route-actions-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "down.html"), "<p>down</p>");
            string yaml = """
                listeners:
                  - name: web
                    address: 127.0.0.1:80
                    routes:
                      - { match: { path_prefix: /v1/ }, redirect: { scheme: https, host: b.example, port: 8443, prefix_rewrite: /api/v1/, strip_query: true, status: 307 } }
                      - { redirect: { https_redirect: true, path: "/x?y=1" } }
                      - { match: { path_prefix: /down }, direct_response: { status: 503, body_file: down.html, content_type: text/html } }
                      - { match: { path_prefix: /ok }, direct_response: { status: 200, body: "ok, é" } }
                      - { match: { path_prefix: /empty }, direct_response: { status: 204 } }
                      - { cluster: a, fault: { abort: { status: 503 }, header_control: true } }
                clusters: [ { name: a, endpoints: [ 1.2.3.4:5 ] } ]
                """;
            var original = ConfigLoader.LoadText(yaml, Path.Combine(dir, "proxy.yaml"));
            Assert.True(original.Success, string.Join("\n", original.Errors));

            string json = ConfigWriter.ToJson(original.Config!);
            var reloaded = ConfigLoader.LoadText(json, Path.Combine(dir, "other", "written.json"));

            Assert.True(reloaded.Success, string.Join("\n", reloaded.Errors) + "\n" + json);
            Assert.Equal(original.Config, reloaded.Config);
            Assert.Contains("\"body_file\":", json);
            Assert.DoesNotContain("\"split\"", json);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
