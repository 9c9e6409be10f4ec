using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// random: each request goes to an endpoint chosen at random with probability proportional to its
/// weight among the healthy endpoints. No shared state is written, so it scales across cores.
/// </summary>
public sealed class RandomPicker : IEndpointPicker
{
    /// <summary>The configuration name.</summary>
    public const string PolicyName = "random";

    private readonly Endpoint[] _endpoints;
    private readonly WeightTable _weights;
    private readonly IRandomSource _random;

    /// <summary>Builds the weight table for <paramref name="endpoints"/>.</summary>
    public RandomPicker(Endpoint[] endpoints, PickerOptions options)
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
        int index = _weights.SampleHealthy(_endpoints, _random);
        return index < 0 ? null : _endpoints[index];
    }
}
