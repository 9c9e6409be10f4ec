using Proxy.LoadBalancing;

namespace Proxy.Observability.Tracing;

/// <summary>
/// Makes span contexts from injected randomness: a random 16-byte trace id and 8-byte span id for a new trace,
/// a new span id under an incoming context (which keeps its trace id and sampled flag: the caller's decision is honoured).
/// </summary>
public sealed class SpanContextGenerator(IRandomSource? random = null)
{
    private readonly IRandomSource _random = random ?? SharedRandomSource.Instance;

    /// <summary>A context starting a new trace.</summary>
    public SpanContext NewRoot(bool sampled) => new(new TraceId(_random.NextUInt64(), NonZero()), new SpanId(NonZero()), sampled);

    /// <summary>A child of <paramref name="parent"/>: same trace, new span id, the parent's sampling decision.</summary>
    public SpanContext NewChild(in SpanContext parent) => new(parent.TraceId, new SpanId(NonZero()), parent.Sampled);

    private ulong NonZero()
    {
        ulong value;
        do
        {
            value = _random.NextUInt64();
        }
        while (value == 0);
        return value;
    }
}
