using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// Builds pickers of one named policy (<c>load_balancer</c> in a cluster's configuration).
/// Creation is the cold path: tables are precomputed here so that picking is cheap.
/// </summary>
public interface IEndpointPickerFactory
{
    /// <summary>The policy name as written in configuration, e.g. <c>round_robin</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Builds a picker over <paramref name="endpoints"/>, which the caller must not modify afterwards
    /// (a cluster snapshot owns it). An empty array is allowed; its picker always returns null.
    /// </summary>
    IEndpointPicker Create(Endpoint[] endpoints, PickerOptions options);
}
