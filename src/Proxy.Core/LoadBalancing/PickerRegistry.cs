using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Proxy.Upstream;

namespace Proxy.LoadBalancing;

/// <summary>
/// The built-in load-balancing policies by configuration name. Configuration validation checks
/// <c>load_balancer</c> against <see cref="Names"/> (so a typo fails at load, not at the first request),
/// and snapshot compilation builds each cluster's picker through <see cref="Create"/>.
/// </summary>
public static class PickerRegistry
{
    /// <summary>The policy used when a cluster names none.</summary>
    public const string DefaultName = RoundRobinPicker.PolicyName;

    private static readonly FrozenDictionary<string, IEndpointPickerFactory> s_factories = Build(
        new PickerFactory(RoundRobinPicker.PolicyName, static (e, o) => new RoundRobinPicker(e, o)),
        new PickerFactory(RandomPicker.PolicyName, static (e, o) => new RandomPicker(e, o)),
        new PickerFactory(LeastRequestPicker.PolicyName, static (e, o) => new LeastRequestPicker(e, o)),
        new PickerFactory(PeakEwmaPicker.PolicyName, static (e, o) => new PeakEwmaPicker(e, o)),
        new PickerFactory(RingHashPicker.PolicyName, static (e, o) => new RingHashPicker(e, o)),
        new PickerFactory(MaglevPicker.PolicyName, static (e, o) => new MaglevPicker(e, o)));

    private static readonly IReadOnlyCollection<string> s_names = Array.AsReadOnly(new[]
    {
        RoundRobinPicker.PolicyName, RandomPicker.PolicyName, LeastRequestPicker.PolicyName,
        PeakEwmaPicker.PolicyName, RingHashPicker.PolicyName, MaglevPicker.PolicyName,
    });

    /// <summary>Every registered policy name, in documentation order (names are case-sensitive).</summary>
    public static IReadOnlyCollection<string> Names => s_names;

    /// <summary>Finds the factory of <paramref name="name"/>; false for unknown names.</summary>
    public static bool TryGetFactory(string name, [NotNullWhen(true)] out IEndpointPickerFactory? factory)
    {
        ArgumentNullException.ThrowIfNull(name);
        return s_factories.TryGetValue(name, out factory);
    }

    /// <summary>Builds a picker of policy <paramref name="name"/> over a cluster snapshot's endpoints.</summary>
    /// <exception cref="ArgumentException">The name is not registered (validation should have caught it).</exception>
    public static IEndpointPicker Create(string name, Endpoint[] endpoints, PickerOptions options)
    {
        if (!TryGetFactory(name, out IEndpointPickerFactory? factory))
        {
            ThrowUnknown(name);
        }

        return factory.Create(endpoints, options);
    }

    private static FrozenDictionary<string, IEndpointPickerFactory> Build(params IEndpointPickerFactory[] factories)
    {
        var byName = new Dictionary<string, IEndpointPickerFactory>(StringComparer.Ordinal);
        foreach (IEndpointPickerFactory factory in factories)
        {
            byName.Add(factory.Name, factory);
        }

        return byName.ToFrozenDictionary(StringComparer.Ordinal);
    }

    [DoesNotReturn]
    private static void ThrowUnknown(string name) =>
        throw new ArgumentException(
            $"Unknown load_balancer '{name}'; expected one of: {string.Join(", ", s_names)}.", nameof(name));
}
