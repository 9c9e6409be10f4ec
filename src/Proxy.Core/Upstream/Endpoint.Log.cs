using Proxy.Observability;

namespace Proxy.Upstream;

public sealed partial class Endpoint
{
    private UpstreamEventLog _events = UpstreamEventLog.None;

    /// <summary>Where this endpoint's connect failures, health changes and ejections are logged (its cluster's log).</summary>
    public UpstreamEventLog Events
    {
        get => Volatile.Read(ref _events);
        set => Volatile.Write(ref _events, value);
    }

    /// <summary>The per-endpoint limit on failure lines (see <see cref="UpstreamEventLog"/>).</summary>
    internal LogRateLimit FailureLogLimit { get; } = new(UpstreamEventLog.EndpointLines, UpstreamEventLog.Window);
}
