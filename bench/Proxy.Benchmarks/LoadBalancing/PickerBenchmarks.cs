using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using Proxy.LoadBalancing;
using Proxy.Upstream;

namespace Proxy.Benchmarks.LoadBalancing;

/// <summary>
/// One pick per operation for each built-in policy over clusters of 3, 30 and 300 endpoints with mixed
/// weights, latencies and in-flight counts. The allocation column must read zero.
/// </summary>
[MemoryDiagnoser]
[IterationTime(100)] // picks take nanoseconds; 100 ms iterations keep the whole run short
public class PickerBenchmarks
{
    private const int KeyCount = 1024;

    private readonly ulong[] _keys = new ulong[KeyCount];
    private int _nextKey;
    private IEndpointPicker _roundRobin = null!;
    private IEndpointPicker _random = null!;
    private IEndpointPicker _leastRequest = null!;
    private IEndpointPicker _peakEwma = null!;
    private IEndpointPicker _ringHash = null!;
    private IEndpointPicker _maglev = null!;

    /// <summary>Number of endpoints in the cluster.</summary>
    [Params(3, 30, 300)]
    public int Endpoints { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        long now = Stopwatch.GetTimestamp();
        var endpoints = new Endpoint[Endpoints];
        for (int i = 0; i < endpoints.Length; i++)
        {
            endpoints[i] = new Endpoint($"10.1.{i / 250}.{i % 250 + 1}:8080", new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 9000 + i), 1 + i % 3);
            for (int r = random.Next(4); r > 0; r--)
            {
                endpoints[i].OnRequestStarted();
            }

            endpoints[i].OnRequestStarted();
            endpoints[i].OnRequestCompleted(TimeSpan.FromMilliseconds(1 + random.Next(50)), now);
        }

        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i] = (ulong)random.NextInt64() * 0x9E3779B97F4A7C15UL;
        }

        PickerOptions options = PickerOptions.Default;
        _roundRobin = PickerRegistry.Create(RoundRobinPicker.PolicyName, endpoints, options);
        _random = PickerRegistry.Create(RandomPicker.PolicyName, endpoints, options);
        _leastRequest = PickerRegistry.Create(LeastRequestPicker.PolicyName, endpoints, options);
        _peakEwma = PickerRegistry.Create(PeakEwmaPicker.PolicyName, endpoints, options);
        _ringHash = PickerRegistry.Create(RingHashPicker.PolicyName, endpoints, options);
        _maglev = PickerRegistry.Create(MaglevPicker.PolicyName, endpoints, options);
    }

    private PickContext NextKey() => new(_keys[_nextKey++ & (KeyCount - 1)]);

    [Benchmark]
    public Endpoint? RoundRobin() => _roundRobin.Pick(PickContext.None);

    [Benchmark]
    public Endpoint? Random() => _random.Pick(PickContext.None);

    [Benchmark]
    public Endpoint? LeastRequest() => _leastRequest.Pick(PickContext.None);

    [Benchmark]
    public Endpoint? PeakEwma() => _peakEwma.Pick(PickContext.None);

    [Benchmark]
    public Endpoint? RingHash() => _ringHash.Pick(NextKey());

    [Benchmark]
    public Endpoint? Maglev() => _maglev.Pick(NextKey());
}
