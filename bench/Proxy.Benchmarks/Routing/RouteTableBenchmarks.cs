using BenchmarkDotNet.Attributes;
using Proxy.Routing;

namespace Proxy.Benchmarks.Routing;

/// <summary>
/// Route matching over a 20-route table shaped like an ingress config: per-service hosts with path
/// prefixes, a canary route keyed on a header, a regex route and a catch-all. Must allocate 0 B.
/// </summary>
[MemoryDiagnoser]
public class RouteTableBenchmarks
{
    private static readonly (string, string)[] CommonHeaders =
    [
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"),
        ("Accept", "application/json"),
        ("Accept-Encoding", "gzip, br"),
        ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo"),
        ("X-Request-Id", "5b3e1d0c-9a8f-4a55-8d8e-3c1f0f6b2a11"),
    ];

    private RouteTable _table = null!;
    private Route _split = null!;
    private uint _random;
    private BenchRequest _firstRoute;
    private BenchRequest _hostPathHeader;
    private BenchRequest _regex;
    private BenchRequest _noMatch;

    [GlobalSetup]
    public void Setup()
    {
        var routes = new List<RouteDefinition>();
        for (int i = 0; i < 8; i++)
        {
            // Two routes per service: a narrow GET-only health route and the service's API prefix.
            routes.Add(new RouteDefinition
            {
                Match = new() { Host = $"svc{i}.example.com", PathExact = "/healthz", Methods = ["GET", "HEAD"] },
                Cluster = $"svc{i}-health",
            });
            routes.Add(new RouteDefinition
            {
                Match = new() { Host = $"svc{i}.example.com", PathPrefix = $"/api/v{i}" },
                Cluster = $"svc{i}",
            });
        }

        routes.Add(new RouteDefinition
        {
            Match = new() { Host = "*.shop.example.com", PathPrefix = "/orders", Headers = [HeaderMatchDefinition.Regex("x-client-version", "2\\.[0-9]+\\.[0-9]+")] },
            Cluster = "orders-v2",
        });
        routes.Add(new RouteDefinition
        {
            Match = new() { Host = "*.shop.example.com", PathPrefix = "/orders", Headers = [HeaderMatchDefinition.Exact("x-canary", "1")] },
            Cluster = "orders-canary",
        });
        routes.Add(new RouteDefinition
        {
            Match = new() { Host = "*.shop.example.com", PathPrefix = "/orders" },
            Split = [new("orders", 90), new("orders-canary", 10)],
        });
        routes.Add(new RouteDefinition
        {
            Match = new() { Host = "*.shop.example.com", PathPrefix = "/" },
            Cluster = "shop",
        });

        _table = RouteTable.Build(routes);
        _split = _table.Routes[18];

        _firstRoute = new BenchRequest("svc0.example.com", "/healthz", "GET", CommonHeaders);
        _hostPathHeader = new BenchRequest("eu.shop.example.com:443", "/orders/12345", "POST", [.. CommonHeaders, ("x-canary", "1")]);
        _regex = new BenchRequest("eu.shop.example.com", "/orders/12345", "GET", [.. CommonHeaders, ("x-client-version", "2.14.3")]);
        _noMatch = new BenchRequest("unknown.example.org", "/api/v1/users", "GET", CommonHeaders);

        // Measure the intended paths only: a wrong setup would otherwise benchmark the wrong route quietly.
        Expect(Match_FirstRoute(), 0);
        Expect(Match_HostPathHeader(), 17);
        Expect(Match_HostPathRegex(), 16);
        Expect(Match_NoMatch(), -1);
    }

    private static void Expect(Route? route, int index)
    {
        if ((route?.Index ?? -1) != index)
        {
            throw new InvalidOperationException($"Benchmark setup matched route {route?.Index ?? -1}, expected {index}.");
        }
    }

    /// <summary>Exact host key lookup, then its first candidate matches (path exact + method).</summary>
    [Benchmark(Baseline = true)]
    public Route? Match_FirstRoute() => _table.Match(ref _firstRoute);

    /// <summary>Host not an exact key, so the 4 wildcard routes are tried: the regex route fails (header absent), route 17 matches host + path + exact header.</summary>
    [Benchmark]
    public Route? Match_HostPathHeader() => _table.Match(ref _hostPathHeader);

    /// <summary>Route 16: wildcard host + path prefix + regex header (UTF-8 decode on the stack + NonBacktracking match).</summary>
    [Benchmark]
    public Route? Match_HostPathRegex() => _table.Match(ref _regex);

    /// <summary>Unknown host: only the wildcard routes are candidates and all fail (the 404 path).</summary>
    [Benchmark]
    public Route? Match_NoMatch() => _table.Match(ref _noMatch);

    /// <summary>90/10 split over the route's clusters.</summary>
    [Benchmark]
    public int PickCluster_Split() => _split.PickClusterIndex(_random += 0x9E3779B9u);
}
