using BenchmarkDotNet.Attributes;
using Proxy.Routing;

namespace Proxy.Benchmarks.Routing;

/// <summary>
/// The ReDoS case: <c>path_regex: "/(a+)+$"</c> against "/" + 10,000 'a' + "!", which a backtracking engine takes
/// exponential time on. With RegexOptions.NonBacktracking the match is linear: the time per match shown here is
/// the whole cost, and the path (over 512 bytes) is decoded into a pooled buffer, so nothing is allocated.
/// </summary>
[MemoryDiagnoser]
public class HostileRegexBenchmarks
{
    private RouteTable _table = null!;
    private BenchRequest _hostile;
    private BenchRequest _matching;

    [GlobalSetup]
    public void Setup()
    {
        _table = RouteTable.Build([new RouteDefinition { Match = new() { PathRegex = "/(a+)+$" }, Cluster = "c" }]);
        _hostile = new BenchRequest("h", "/" + new string('a', 10_000) + "!", "GET");
        _matching = new BenchRequest("h", "/" + new string('a', 10_000), "GET");
        if (Match_Hostile() is not null || Match_Matching() is null)
        {
            throw new InvalidOperationException("Benchmark setup: the hostile path must not match and the plain one must.");
        }
    }

    /// <summary>10,002-byte path that does not match.</summary>
    [Benchmark(Baseline = true)]
    public Route? Match_Hostile() => _table.Match(ref _hostile);

    /// <summary>10,001-byte path that matches.</summary>
    [Benchmark]
    public Route? Match_Matching() => _table.Match(ref _matching);
}
