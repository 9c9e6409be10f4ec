using System.Net;
using System.Text;
using Proxy.Configuration;
using Proxy.Headers;
using Proxy.Http.Http1;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Routing;
using Proxy.Runtime;
using Proxy.Tests.Filters;
using Proxy.Upstream;

namespace Proxy.Tests.Headers;

/// <summary>How the levels of header changes merge (Envoy's order), and what a rendered addition holds.</summary>
public class FieldChangesTests
{
    private static readonly RouteMetrics Metrics = new(new RequestMetricFamilies(new MetricsRegistry()), "web", "checkout", "backend");

    private static TestExchange Exchange(params (string Name, string Value)[] headers)
    {
        RouteTable table = RouteTable.Build([new RouteDefinition { Name = "checkout", Cluster = "backend" }]);
        var action = new RouteRuntime(table.Routes[0], [], null, [Metrics]);
        return new TestExchange(new HttpRouting(table, [action], Http1Limits.Default, Metrics), action, headers: headers);
    }

    private static HeaderChangesConfig Level(
        (string, string)[]? add = null, (string, string)[]? set = null, (string, string)[]? ifAbsent = null, string[]? remove = null) => new()
    {
        Add = Values(add), Set = Values(set), SetIfAbsent = Values(ifAbsent),
        Remove = remove is null ? ConfigList<string>.Empty : new ConfigList<string>(remove),
    };

    private static ConfigList<HeaderValueConfig> Values((string Name, string Value)[]? fields) =>
        fields is null ? ConfigList<HeaderValueConfig>.Empty : new(fields.Select(f => new HeaderValueConfig { Name = f.Name, Value = f.Value }).ToArray());

    /// <summary>The additions rendered for <paramref name="exchange"/>, as "name: value" lines.</summary>
    private static string[] Render(FieldChanges changes, TestExchange exchange, Endpoint? endpoint = null)
    {
        var target = new FieldAdditions();
        changes.AddTo(target, exchange, endpoint, ref exchange);
        return Enumerable.Range(0, target.Count).Select(i => Encoding.ASCII.GetString(target.GetName(i)) + ": " + Encoding.ASCII.GetString(target.GetValue(i))).ToArray();
    }

    [Fact]
    public void Compile_NothingToChange_IsNull()
    {
        Assert.Null(FieldChanges.Compile([null, null], forResponse: false));
    }

    [Fact]
    public void Compile_ListenerSetAfterRouteSet_ListenerWins()
    {
        // Envoy applies route, then virtual host, then route configuration: the least specific level has the last word.
        var changes = FieldChanges.Compile([Level(set: [("x-env", "route")]), Level(set: [("x-env", "listener")])], forResponse: false)!;

        Assert.Equal(["x-env: listener"], Render(changes, Exchange()));
        Assert.True(changes.Removed.Contains("X-Env"u8)); // the client's own x-env does not cross
    }

    [Fact]
    public void Compile_ListenerRemovesWhatRouteAdds_NothingAdded()
    {
        var changes = FieldChanges.Compile([Level(add: [("x-debug", "1")]), Level(remove: ["x-debug"])], forResponse: false)!;

        Assert.Empty(Render(changes, Exchange()));
        Assert.True(changes.Removed.Contains("x-debug"u8));
    }

    [Fact]
    public void Compile_AddAppends_EveryLevelsValueKept()
    {
        var changes = FieldChanges.Compile([Level(add: [("x-hop", "route")]), Level(add: [("x-hop", "listener")])], forResponse: false)!;

        Assert.Equal(["x-hop: route", "x-hop: listener"], Render(changes, Exchange()));
        Assert.False(changes.Removed.Contains("x-hop"u8));
    }

    [Fact]
    public void SetIfAbsent_MessageHasField_NotAdded()
    {
        var changes = FieldChanges.Compile([Level(ifAbsent: [("x-tenant", "default")])], forResponse: false)!;

        Assert.Empty(Render(changes, Exchange(("x-tenant", "acme"))));
        Assert.Equal(["x-tenant: default"], Render(changes, Exchange()));
    }

    [Fact]
    public void SetIfAbsent_AfterAnEarlierLevelAddsIt_NotAddedTwice()
    {
        var changes = FieldChanges.Compile([Level(set: [("x-tenant", "route")]), Level(ifAbsent: [("x-tenant", "listener")])], forResponse: false)!;

        Assert.Equal(["x-tenant: route"], Render(changes, Exchange(("x-tenant", "client"))));
    }

    [Fact]
    public void SetIfAbsent_WhenTheClientsFieldIsRemoved_AlwaysAdded()
    {
        var changes = FieldChanges.Compile([Level(remove: ["x-tenant"], ifAbsent: [("x-tenant", "default")])], forResponse: false)!;

        Assert.Equal(["x-tenant: default"], Render(changes, Exchange(("x-tenant", "client"))));
    }

    [Fact]
    public void Compile_AlsoRemoved_JoinsTheRemovedNames()
    {
        var changes = FieldChanges.Compile([null], forResponse: false, alsoRemoved: ["x-envoy-original-path"])!;

        Assert.True(changes.Removed.Contains("X-Envoy-Original-Path"u8));
        Assert.Empty(Render(changes, Exchange()));
    }

    [Fact]
    public void Render_Variables_FilledFromRequestAndEndpoint()
    {
        var changes = FieldChanges.Compile([Level(add:
        [
            ("x-route", "%ROUTE_NAME%"),
            ("x-client", "ip=%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%;"),
            ("x-ua", "%REQ(User-Agent)%"),
            ("x-id", "%REQ(x-request-id)%"),
            ("x-proto", "%PROTOCOL%"),
            ("x-by", "%UPSTREAM_REMOTE_ADDRESS%"),
            ("x-pct", "100%%"),
        ])], forResponse: true)!;
        var endpoint = new Endpoint("10.0.0.5:9000", new IPEndPoint(IPAddress.Parse("10.0.0.5"), 9000));

        var lines = Render(changes, Exchange(("user-agent", "curl/8")), endpoint);

        Assert.Equal(
            ["x-route: checkout", "x-client: ip=192.0.2.10;", "x-ua: curl/8", "x-id: generated-id", "x-proto: HTTP/1.1", "x-by: 10.0.0.5:9000", "x-pct: 100%"],
            lines);
    }

    [Fact]
    public void Render_EmptyValue_FieldLeftOut()
    {
        // As Envoy: a field whose value comes out empty (a missing request field, no mesh peer) is not added.
        var changes = FieldChanges.Compile([Level(add: [("x-ua", "%REQ(user-agent)%"), ("x-peer", "%DOWNSTREAM_PEER_URI_SAN%"), ("x-kept", "k")])], forResponse: false)!;

        Assert.Equal(["x-kept: k"], Render(changes, Exchange()));
    }

    [Fact]
    public void FieldNameSet_MatchesAnyCase_OnlyItsNames()
    {
        var set = new FieldNameSet(["x-a", "server", "x-longer-name"]);

        Assert.True(set.Contains("X-A"u8));
        Assert.True(set.Contains("Server"u8));
        Assert.True(set.Contains("x-longer-name"u8));
        Assert.False(set.Contains("x-b"u8));
        Assert.False(set.Contains("x-a-"u8));
        Assert.False(set.Contains("a-very-long-name-beyond-every-entry"u8));
        Assert.False(set.Contains(default));
    }
}
