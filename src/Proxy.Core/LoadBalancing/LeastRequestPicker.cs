using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// least_request: power of two choices (as Envoy does). Two distinct candidates are drawn at random in
/// proportion to weight, and the one with fewer requests in flight per unit of weight wins, which
/// avoids both the herding of a global "least loaded" choice and any shared scan.
/// </summary>
/// <remarks>
/// Comparing in-flight/weight (Envoy's weight/(active+1) turned around) keeps ties at zero load, so an
/// idle cluster is shared exactly by weight, and a loaded one converges on in-flight proportional to weight.
/// </remarks>
public sealed class LeastRequestPicker : IEndpointPicker
{
    /// <summary>The configuration name.</summary>
    public const string PolicyName = "least_request";

    private readonly Endpoint[] _endpoints;
    private readonly WeightTable _weights;
    private readonly IRandomSource _random;

    /// <summary>Builds the weight table for <paramref name="endpoints"/>.</summary>
    public LeastRequestPicker(Endpoint[] endpoints, PickerOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(options);
        _endpoints = endpoints;
        _weights = new WeightTable(endpoints);
        _random = options.Random;
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

        // b wins only if strictly less loaded: b.InFlight / b.Weight < a.InFlight / a.Weight.
        Endpoint b = endpoints[second];
        return (long)b.InFlight * a.Weight < (long)a.InFlight * b.Weight ? b : a;
    }
}
