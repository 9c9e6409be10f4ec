using Proxy.Configuration;
using Proxy.LoadBalancing;

namespace Proxy.Resilience;

/// <summary>
/// Whether a request of a route is copied to its mirror cluster (the <c>mirror</c> section): a sampled
/// percentage, drawn from injected randomness. The copy is sent fire-and-forget and its response discarded.
/// </summary>
public sealed class MirrorPolicy
{
    private readonly IRandomSource _random;
    private readonly int _perTenThousand;

    public MirrorPolicy(string cluster, double percent, IRandomSource? random = null)
    {
        Cluster = cluster;
        _perTenThousand = FaultInjector.ToPerTenThousand(percent);
        _random = random ?? SharedRandomSource.Instance;
    }

    /// <summary>The cluster that receives the copies.</summary>
    public string Cluster { get; }

    /// <summary>The policy of a route's <c>mirror</c> section.</summary>
    public static MirrorPolicy FromConfig(MirrorConfig config, IRandomSource? random = null) => new(config.Cluster, config.Percent, random);

    /// <summary>True when this request is mirrored; draws no randomness at 0 % or 100 %.</summary>
    public bool ShouldMirror() =>
        _perTenThousand >= 10_000 || (_perTenThousand > 0 && _random.Next(10_000) < _perTenThousand);
}
