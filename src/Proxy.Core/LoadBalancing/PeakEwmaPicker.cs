using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// peak_ewma: power of two choices over a latency-aware cost, as linkerd2-proxy balances. Each endpoint
/// costs its peak-sensitive latency estimate (<see cref="Endpoint.LatencyEstimateMs"/>) times its
/// requests in flight plus one, divided by its weight; of two distinct weighted-random candidates the cheaper wins.
/// A slow endpoint's estimate jumps at once, so traffic moves away within one response; it decays back
/// over about ten seconds without samples, so the endpoint is retried.
/// </summary>
public sealed class PeakEwmaPicker : IEndpointPicker
{
    /// <summary>The configuration name.</summary>
    public const string PolicyName = "peak_ewma";

    private readonly Endpoint[] _endpoints;
    private readonly WeightTable _weights;
    private readonly IRandomSource _random;
    private readonly Func<long> _clock;

    /// <summary>Builds the weight table for <paramref name="endpoints"/>.</summary>
    public PeakEwmaPicker(Endpoint[] endpoints, PickerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        _endpoints = endpoints;
        _weights = new WeightTable(endpoints);
        _random = options.Random;
        _clock = options.Clock;
    }

    /// <inheritdoc />
    public Endpoint? Pick(in PickContext context)
    {
        Endpoint[] endpoints = _endpoints;
        int first = _weights.SampleHealthy(endpoints, _random);
        if (first < 0)
        {
            return null;
        }

        Endpoint a = endpoints[first];
        int second = _weights.SampleOtherHealthy(endpoints, _random, first);
        if (second < 0)
        {
            return a;
        }

        Endpoint b = endpoints[second];
        long now = _clock();
        return Cost(b, now) < Cost(a, now) ? b : a;
    }

    /// <summary>The cost the picker compares (exposed for tests and the admin page).</summary>
    internal static double Cost(Endpoint endpoint, long nowTicks) =>
        endpoint.LatencyEstimateMs(nowTicks) * (endpoint.InFlight + 1) / endpoint.Weight;
}
