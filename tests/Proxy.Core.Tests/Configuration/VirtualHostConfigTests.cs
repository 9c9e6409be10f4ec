using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

/// <summary>Binding, validating and writing back virtual hosts and the new match keys.</summary>
public class VirtualHostConfigTests
{
    private const string Clusters = """
        clusters:
          - { name: api, endpoints: [ 127.0.0.1:9001 ] }
          - { name: web, endpoints: [ 127.0.0.1:9002 ] }
        """;

    private static string Listener(string body) => "listeners:\n  - name: edge\n    address: 127.0.0.1:8080\n" + body + Clusters;

    // The error must point at the first occurrence of `at` in the file: its line and column, 1-based.
    private static void AssertError(string yaml, string at, string path, string message)
    {
        int offset = yaml.IndexOf(at, StringComparison.Ordinal);
        Assert.True(offset >= 0, $"'{at}' is not in the test's YAML");
        int line = yaml[..offset].Count(c => c == '\n') + 1;
        int column = offset - (yaml.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1) + 1;
        var result = ConfigTestData.Load(yaml);
        string all = string.Join("\n", result.Errors);
        Assert.False(result.Success);
        Assert.True(
            result.Errors.Any(e => e.Line == line && e.Column == column && e.Path == path && e.Message.Contains(message, StringComparison.Ordinal)),
            $"expected {line}:{column} {path}: {message}\nin:\n{all}");
    }

    private const string Full = """
            virtual_hosts:
              - name: api
                domains: [ "api.example.com", "api.example.com:8443", "*.api.example.com" ]
                timeout: 5s
                retries: { attempts: 2, retry_on: [ 5xx ] }
                routes:
                  - name: canary
                    match:
                      path_regex: "/v[0-9]+/.*"
                      query: [ { name: canary, exact: "1" }, { name: debug, present: true }, { name: user, prefix: beta }, { name: id, regex: "[0-9]+" } ]
                      headers: [ { name: x-env, exact: prod, invert: true }, { name: x-debug, absent: true } ]
                    cluster: api
                  - name: grpc
                    match: { grpc: true, path_prefix: /Pkg.Service/, case_sensitive: false }
                    cluster: api
                    timeout: 1s
              - name: rest
                domains: [ "*" ]
                routes:
                  - { cluster: web }

        """;

    [Fact]
    public void Load_VirtualHosts_BindsEveryKey()
    {
        var listener = ConfigTestData.LoadValid(Listener(Full)).Listeners[0];

        Assert.Empty(listener.Routes);
        Assert.Equal(2, listener.VirtualHosts.Count);
        var api = listener.VirtualHosts[0];
        Assert.Equal(["api.example.com", "api.example.com:8443", "*.api.example.com"], api.Domains);
        Assert.Equal(TimeSpan.FromSeconds(5), api.Timeout);
        Assert.Equal(2, api.Retries!.Attempts);
        var canary = api.Routes[0].Match;
        Assert.Equal("/v[0-9]+/.*", canary.PathRegex);
        Assert.Equal([QueryMatchKind.Exact, QueryMatchKind.Present, QueryMatchKind.Prefix, QueryMatchKind.Regex], canary.Query.Select(q => q.Kind));
        Assert.True(canary.Headers[0].Invert);
        Assert.Equal(HeaderMatchKind.Absent, canary.Headers[1].Kind);
        var grpc = api.Routes[1].Match;
        Assert.True(grpc.Grpc);
        Assert.False(grpc.CaseSensitive);
        Assert.Same(listener.VirtualHosts, listener.EffectiveVirtualHosts);
    }

    [Fact]
    public void Load_PlainRoutes_AreOneVirtualHostForEveryHost()
    {
        var listener = ConfigTestData.LoadValid(Listener("    routes: [ { cluster: web } ]\n")).Listeners[0];

        var host = Assert.Single(listener.EffectiveVirtualHosts);
        Assert.Equal(["*"], host.Domains);
        Assert.Same(listener.Routes, host.Routes);
    }

    [Fact]
    public void ToJson_VirtualHostsAndNewMatchKeys_ReloadToEqualModel()
    {
        var original = ConfigTestData.LoadValid(Listener(Full));

        string json = ConfigWriter.ToJson(original);
        var reloaded = ConfigLoader.LoadText(json, ConfigTestData.PathOf("written.json"));

        Assert.True(reloaded.Success, string.Join("\n", reloaded.Errors) + "\n" + json);
        Assert.Equal(original, reloaded.Config);
        Assert.Contains("\"virtual_hosts\"", json, StringComparison.Ordinal);
        Assert.Contains("\"path_regex\"", json, StringComparison.Ordinal);
        Assert.Contains("\"invert\": true", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DomainInTwoVirtualHosts_ErrorAtTheSecondNamingTheFirst()
    {
        AssertError(Listener("""
                virtual_hosts:
                  - name: a
                    domains: [ "shop.example.com" ]
                    routes: [ { cluster: web } ]
                  - name: b
                    domains: [ "*", "Shop.Example.com" ]
                    routes: [ { cluster: api } ]

            """), "\"Shop.Example.com\"", "listeners[0].virtual_hosts[1].domains[1]", "also belongs to virtual host 'a' (line 6)");
    }

    [Theory]
    [InlineData("[ ]", "[ ]", "listeners[0].virtual_hosts[0].domains", "needs at least one domain")]
    [InlineData("[ \"a*b.example.com\" ]", "\"a*b", "listeners[0].virtual_hosts[0].domains[0]", "'*' may only begin a domain")]
    [InlineData("[ \"x.test:http\" ]", "\"x.test", "listeners[0].virtual_hosts[0].domains[0]", "the port after ':' must be a number")]
    [InlineData("[ \"a.test\", \"A.test\" ]", "\"A.test", "listeners[0].virtual_hosts[0].domains[1]", "listed twice in this virtual host")]
    public void Validate_BadDomains_LocatedWithWhatToFix(string domains, string at, string path, string message)
    {
        AssertError(Listener($$"""
                virtual_hosts:
                  - name: a
                    domains: {{domains}}
                    routes: [ { cluster: web } ]

            """), at, path, message);
    }

    [Fact]
    public void Validate_RoutesAndVirtualHostsOnOneListener_Error()
    {
        AssertError(Listener("""
                routes: [ { cluster: web } ]
                virtual_hosts: [ { name: a, domains: [ "*" ], routes: [ { cluster: web } ] } ]

            """), "[ { cluster: web } ]", "listeners[0].routes", "not both; move these routes into a virtual host with domains: [\"*\"]");
    }

    [Fact]
    public void Validate_UnknownVirtualHostKey_And_MissingName()
    {
        var yaml = Listener("""
                virtual_hosts:
                  - domains: [ "*" ]
                    route: [ ]
                    routes: [ { cluster: web } ]

            """);

        AssertError(yaml, "route:", "listeners[0].virtual_hosts[0].route", "unknown key 'route'; allowed keys: name, domains, routes, retries, timeout");
        AssertError(yaml, "domains:", "listeners[0].virtual_hosts[0].name", "missing required key 'name'");
    }

    [Fact]
    public void Validate_DuplicateRouteNameAcrossVirtualHosts_Error()
    {
        AssertError(Listener("""
                virtual_hosts:
                  - { name: a, domains: [ a.test ], routes: [ { name: r, cluster: web } ] }
                  - { name: b, domains: [ b.test ], routes: [ { cluster: web, name: r } ] }

            """), "r } ] }", "listeners[0].virtual_hosts[1].routes[0].name", "duplicate route name 'r' (also line 5)");
    }

    [Theory]
    [InlineData("{ path_regex: \"/(a\" }", "\"/(a", "listeners[0].routes[0].match.path_regex", "invalid regular expression: InsufficientClosingParentheses at offset 3")]
    [InlineData("{ path_regex: \"/(?<=a)b\" }", "\"/(?<", "listeners[0].routes[0].match.path_regex", "the linear-time regex engine cannot run (a backreference, lookaround, atomic group or conditional); rewrite the pattern without it")]
    [InlineData("{ path_regex: \"/a\", path_prefix: /a }", "\"/a", "listeners[0].routes[0].match.path_regex", "a match takes one path condition: path_prefix, path_exact or path_regex; remove the others")]
    [InlineData("{ path_regex: \"/a\", case_sensitive: false }", "false", "listeners[0].routes[0].match.case_sensitive", "for path_regex start the pattern with '(?i)'")]
    [InlineData("{ case_sensitive: false }", "false", "listeners[0].routes[0].match.case_sensitive", "set one of them or remove case_sensitive")]
    [InlineData("{ grpc: maybe }", "maybe", "listeners[0].routes[0].match.grpc", "expected true or false, found 'maybe'")]
    [InlineData("{ query: { a: b } }", "{ a: b }", "listeners[0].routes[0].match.query", "expected a sequence of query parameter matchers")]
    [InlineData("{ query: [ { name: a } ] }", "{ name: a", "listeners[0].routes[0].match.query[0]", "a query parameter matcher needs exactly one of: exact, prefix, regex, present")]
    [InlineData("{ query: [ { name: a, regex: \"(\" } ] }", "\"(\"", "listeners[0].routes[0].match.query[0].regex", "invalid regular expression")]
    [InlineData("{ query: [ { name: a, exact: b, flavour: c } ] }", "flavour", "listeners[0].routes[0].match.query[0].flavour", "unknown key 'flavour'; allowed keys: name, exact, prefix, regex, present")]
    [InlineData("{ headers: [ { name: a, absent: false } ] }", "false", "listeners[0].routes[0].match.headers[0].absent", "only 'absent: true' is supported")]
    [InlineData("{ headers: [ { name: a, present: false } ] }", "false", "listeners[0].routes[0].match.headers[0].present", "to match a request without the header write 'absent: true'")]
    [InlineData("{ headers: [ { name: a, absent: true, present: true } ] }", "{ name: a", "listeners[0].routes[0].match.headers[0]", "a header matcher needs exactly one of: exact, prefix, regex, present, absent")]
    [InlineData("{ headers: [ { name: a, exact: b, invert: sometimes } ] }", "sometimes", "listeners[0].routes[0].match.headers[0].invert", "expected true or false, found 'sometimes'")]
    [InlineData("{ pathregex: /a }", "pathregex", "listeners[0].routes[0].match.pathregex", "unknown key 'pathregex'; allowed keys: host, path_prefix, path_exact, path_regex")]
    public void Validate_BadMatchKeys_LocatedWithWhatToFix(string match, string at, string path, string message)
    {
        AssertError(Listener($"    routes:\n      - match: {match}\n        cluster: web\n"), at, path, message);
    }

    [Fact]
    public void Validate_PrefixRewriteOnRegexRoute_SaysToUseRegexRewrite()
    {
        AssertError(Listener("    routes:\n      - match: { path_regex: \"/v[0-9]+/.*\" }\n        prefix_rewrite: /api/\n        cluster: web\n"),
            "/api/", "listeners[0].routes[0].prefix_rewrite", "with path_regex use regex_rewrite");
    }
}
