using BenchmarkDotNet.Attributes;
using Proxy.Routing;

namespace Proxy.Benchmarks.Routing;

/// <summary>
/// Route matching at scale: 10,000 routes spread over 1, 100 or 1,000 virtual hosts. Each virtual host answers
/// "svcN.example.com" and "*.svcN.example.com"; its first route is a path regex, the rest are path prefixes. Shows
/// that choosing the virtual host costs the same at any count (hash lookups, not a scan), that the routes inside one
/// are tried in order (first match wins, so the last route's cost grows with routes per host), and 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class VirtualHostRoutingBenchmarks
{
    private const int TotalRoutes = 10_000;

    private static readonly (string, string)[] CommonHeaders =
    [
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"),
        ("Accept", "application/json"),
        ("X-Request-Id", "5b3e1d0c-9a8f-4a55-8d8e-3c1f0f6b2a11"),
    ];

    private RouteTable _table = null!;
    private BenchRequest _exactHost;
    private BenchRequest _wildcardHost;
    private BenchRequest _lastRoute;
    private BenchRequest _regex;
    private BenchRequest _unknownHost;

    /// <summary>How many virtual hosts share the 10,000 routes.</summary>
    [Params(1, 100, 1_000)]
    public int VirtualHosts { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        int perHost = TotalRoutes / VirtualHosts;
        var hosts = new VirtualHostDefinition[VirtualHosts];
        for (int v = 0; v < hosts.Length; v++)
        {
            var routes = new RouteDefinition[perHost];
            routes[0] = new RouteDefinition { Name = $"h{v}-regex", Match = new() { PathRegex = "/items/[0-9]+" }, Cluster = "items" };
            for (int r = 1; r < perHost; r++)
            {
                routes[r] = new RouteDefinition { Name = $"h{v}-r{r}", Match = new() { PathPrefix = $"/api/r{r}" }, Cluster = $"c{r % 16}" };
            }

            hosts[v] = new VirtualHostDefinition { Name = $"h{v}", Domains = [$"svc{v}.example.com", $"*.svc{v}.example.com"], Routes = routes };
        }

        _table = RouteTable.BuildVirtualHosts(hosts);
        int last = VirtualHosts - 1;
        int middle = VirtualHosts / 2;
        _exactHost = new BenchRequest($"svc{last}.example.com", "/api/r1/users/42", "GET", CommonHeaders);
        _wildcardHost = new BenchRequest($"eu.svc{middle}.example.com:443", "/api/r1/users/42", "GET", CommonHeaders);
        _lastRoute = new BenchRequest($"svc{last}.example.com", $"/api/r{perHost - 1}/users/42", "GET", CommonHeaders);
        _regex = new BenchRequest($"svc{last}.example.com", "/items/1234567", "GET", CommonHeaders);
        _unknownHost = new BenchRequest("unknown.example.org", "/api/r1", "GET", CommonHeaders);

        // Measure the intended paths only: a wrong setup would otherwise benchmark the wrong route quietly.
        Expect(Match_ExactHost(), $"h{last}-r1");
        Expect(Match_WildcardHost(), $"h{middle}-r1");
        Expect(Match_LastRoute(), $"h{last}-r{perHost - 1}");
        Expect(Match_RegexRoute(), $"h{last}-regex");
        Expect(Match_UnknownHost(), null);
    }

    private static void Expect(Route? route, string? name)
    {
        if (route?.Name != name)
        {
            throw new InvalidOperationException($"Benchmark setup matched route {route?.Name ?? "none"}, expected {name ?? "none"}.");
        }
    }

    /// <summary>Exact domain of the last virtual host; its second route matches (the regex route before it fails).</summary>
    [Benchmark(Baseline = true)]
    public Route? Match_ExactHost() => _table.Match(ref _exactHost);

    /// <summary>Suffix wildcard domain with a port on the request; same routes as the exact case.</summary>
    [Benchmark]
    public Route? Match_WildcardHost() => _table.Match(ref _wildcardHost);

    /// <summary>The last route of the virtual host: every route before it is tried (10,000 / hosts of them).</summary>
    [Benchmark]
    public Route? Match_LastRoute() => _table.Match(ref _lastRoute);

    /// <summary>The path regex route: UTF-8 decode on the stack and a NonBacktracking match.</summary>
    [Benchmark]
    public Route? Match_RegexRoute() => _table.Match(ref _regex);

    /// <summary>No domain matches: the 404 path (no "*" virtual host).</summary>
    [Benchmark]
    public Route? Match_UnknownHost() => _table.Match(ref _unknownHost);
}
