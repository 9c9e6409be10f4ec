using Proxy.Configuration;

namespace Proxy.Tests.Configuration;

/// <summary>request_headers, response_headers and the route rewrites: what binds, and each mistake with its line.</summary>
public class HeaderChangeConfigTests
{
    private static string File(string route, string listener = "") => $$"""
        listeners:
          - name: web
            address: 127.0.0.1:8080
        {{listener}}
            routes:
              - cluster: api
        {{route}}
        clusters:
          - { name: api, endpoints: [ 127.0.0.1:9000 ] }
        """;

    [Fact]
    public void Load_RouteAndListenerChanges_Bind()
    {
        var result = ConfigLoader.LoadText(File(
            """
                    request_headers:
                      add: { X-Env: prod }
                      set: { x-route: "%ROUTE_NAME%" }
                      set_if_absent: { x-tenant: default }
                      remove: [ X-Secret ]
                    response_headers: { add: { x-served-by: "%UPSTREAM_REMOTE_ADDRESS%" } }
                    prefix_rewrite: /api/
                    host_rewrite: api.internal:8443
            """,
            """
                response_headers: { remove: [ server ] }
            """), "t.yaml");

        Assert.True(result.Success, string.Join("\n", result.Errors));
        var listener = result.Config!.Listeners[0];
        var route = listener.Routes[0];
        Assert.Equal("x-env", route.RequestHeaders!.Add[0].Name); // names are stored lower case
        Assert.Equal("%ROUTE_NAME%", route.RequestHeaders.Set[0].Value);
        Assert.Equal("x-tenant", route.RequestHeaders.SetIfAbsent[0].Name);
        Assert.Equal(["x-secret"], route.RequestHeaders.Remove);
        Assert.Equal("x-served-by", route.ResponseHeaders!.Add[0].Name);
        Assert.Equal("/api/", route.PrefixRewrite);
        Assert.Equal("api.internal:8443", route.HostRewrite);
        Assert.Equal(["server"], listener.ResponseHeaders!.Remove);
    }

    [Theory]
    [InlineData("request_headers: { set: { host: a } }", "listeners[0].routes[0].request_headers.set.host", "'host' cannot be changed by a header rule: use host_rewrite")]
    [InlineData("request_headers: { remove: [ content-length ] }", "listeners[0].routes[0].request_headers.remove", "the proxy frames every message itself")]
    [InlineData("response_headers: { add: { connection: close } }", "listeners[0].routes[0].response_headers.add.connection", "hop-by-hop")]
    [InlineData("request_headers: { add: { \"bad name\": x } }", "listeners[0].routes[0].request_headers.add.bad name", "is not a field name")]
    [InlineData("request_headers: { add: { x-a: \"%NOPE%\" } }", "listeners[0].routes[0].request_headers.add.x-a", "'%NOPE%' is not a variable this proxy knows; use one of %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%")]
    [InlineData("request_headers: { add: { x-a: \"50%\" } }", "listeners[0].routes[0].request_headers.add.x-a", "write %% for a percent sign")]
    [InlineData("request_headers: { add: { x-a: \"%UPSTREAM_REMOTE_ADDRESS%\" } }", "listeners[0].routes[0].request_headers.add.x-a", "use it in response_headers, not request_headers")]
    [InlineData("request_headers: { add: { x-a: \"%REQ()%\" } }", "listeners[0].routes[0].request_headers.add.x-a", "needs a field name between the parentheses")]
    [InlineData("request_headers: { set: { x-a: b }, remove: [ x-a ] }", "listeners[0].routes[0].request_headers.remove", "'x-a' is both removed and added here")]
    [InlineData("request_headers: { }", "listeners[0].routes[0].request_headers", "this section changes nothing")]
    [InlineData("request_headers: { append: { x-a: b } }", "listeners[0].routes[0].request_headers.append", "unknown key 'append'")]
    [InlineData("request_headers: { add: [ x-a ] }", "listeners[0].routes[0].request_headers.add", "expected a mapping of field names to values")]
    [InlineData("prefix_rewrite: api/", "listeners[0].routes[0].prefix_rewrite", "must start with '/'")]
    [InlineData("prefix_rewrite: /a/\n        regex_rewrite: { pattern: a, substitution: b }", "listeners[0].routes[0].regex_rewrite", "either prefix_rewrite or regex_rewrite, not both")]
    [InlineData("regex_rewrite: { pattern: \"(a\", substitution: b }", "listeners[0].routes[0].regex_rewrite.pattern", "invalid regular expression")]
    [InlineData("regex_rewrite: { pattern: \"(?<=a)b\", substitution: b }", "listeners[0].routes[0].regex_rewrite.pattern", "the linear-time engine cannot run")]
    [InlineData("regex_rewrite: { pattern: \"^/(a)\", substitution: \"/\\\\2\" }", "listeners[0].routes[0].regex_rewrite.substitution", "names group \\2, but the pattern has 1 capture group(s)")]
    [InlineData("regex_rewrite: { pattern: a }", "listeners[0].routes[0].regex_rewrite.substitution", "missing required key 'substitution'")]
    [InlineData("host_rewrite: \"a b\"", "listeners[0].routes[0].host_rewrite", "is not a host")]
    [InlineData("host_rewrite: a\n        auto_host_rewrite: true", "listeners[0].routes[0].auto_host_rewrite", "either host_rewrite or auto_host_rewrite, not both")]
    public void Load_RouteMistake_ReportedAtItsKey(string route, string path, string message)
    {
        var result = ConfigLoader.LoadText(File("        " + route), "t.yaml");

        Assert.False(result.Success);
        Assert.Contains(result.Errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal) && e.Line > 0 && e.Column > 0);
    }

    [Fact]
    public void Load_TcpListenerWithHeaderChanges_SaysTheyNeedHttp()
    {
        var result = ConfigLoader.LoadText("""
            listeners:
              - { name: t, address: 127.0.0.1:8080, protocol: tcp, cluster: api, request_headers: { add: { x-a: b } } }
            clusters:
              - { name: api, endpoints: [ 127.0.0.1:9000 ] }
            """, "t.yaml");

        Assert.Contains(result.Errors, e => e.Path == "listeners[0].request_headers" && e.Message.Contains("a tcp listener carries bytes", StringComparison.Ordinal));
    }

    [Fact]
    public void Write_ThenLoad_KeepsEveryKey()
    {
        var first = ConfigLoader.LoadText(File(
            """
                    request_headers: { add: { x-a: "1" }, set: { x-b: "%REQ(x-request-id)%" }, set_if_absent: { x-c: "3" }, remove: [ x-d ] }
                    response_headers: { set: { x-e: "%UPSTREAM_REMOTE_ADDRESS%" } }
                    regex_rewrite: { pattern: "^/(v1)/", substitution: "/api/\\1/" }
                    auto_host_rewrite: true
            """,
            """
                request_headers: { remove: [ x-f ] }
            """), "t.yaml");
        Assert.True(first.Success, string.Join("\n", first.Errors));

        var written = ConfigWriter.ToJson(first.Config!);
        var second = ConfigLoader.LoadText(written, "written.json");

        Assert.True(second.Success, string.Join("\n", second.Errors) + "\n" + written);
        Assert.Equal(first.Config!.Listeners[0].Routes[0], second.Config!.Listeners[0].Routes[0]);
        Assert.Equal(first.Config.Listeners[0].RequestHeaders, second.Config.Listeners[0].RequestHeaders);
    }

    [Fact]
    public void Load_VirtualHostChanges_BindValidateAndWriteBack()
    {
        var first = ConfigLoader.LoadText("""
            listeners:
              - name: web
                address: 127.0.0.1:8080
                virtual_hosts:
                  - name: api
                    domains: [ api.example.com ]
                    request_headers: { set: { x-vhost: api } }
                    response_headers: { remove: [ server ] }
                    routes: [ { cluster: api } ]
            clusters:
              - { name: api, endpoints: [ 127.0.0.1:9000 ] }
            """, "t.yaml");
        Assert.True(first.Success, string.Join("\n", first.Errors));
        var host = first.Config!.Listeners[0].VirtualHosts[0];
        Assert.Equal("x-vhost", host.RequestHeaders!.Set[0].Name);
        Assert.Equal(["server"], host.ResponseHeaders!.Remove);

        var second = ConfigLoader.LoadText(ConfigWriter.ToJson(first.Config), "written.json");
        Assert.True(second.Success, string.Join("\n", second.Errors));
        Assert.Equal(host, second.Config!.Listeners[0].VirtualHosts[0]);

        var bad = ConfigLoader.LoadText("""
            listeners:
              - name: web
                address: 127.0.0.1:8080
                virtual_hosts:
                  - { name: api, domains: [ "*" ], request_headers: { set: { te: x } }, routes: [ { cluster: api } ] }
            clusters:
              - { name: api, endpoints: [ 127.0.0.1:9000 ] }
            """, "t.yaml");
        Assert.Contains(bad.Errors, e => e.Path == "listeners[0].virtual_hosts[0].request_headers.set.te" && e.Message.Contains("hop-by-hop", StringComparison.Ordinal));
    }
}
