namespace Proxy.Upstream;

public sealed partial class Endpoint
{
    private int _inFlight;

    /// <summary>Requests (or TCP streams) currently in progress on this endpoint.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Called when a request or stream is sent to this endpoint.</summary>
    public void OnRequestStarted() => Interlocked.Increment(ref _inFlight);

    /// <summary>Called when it finishes, with its latency (time to response headers, or stream duration).</summary>
    public void OnRequestCompleted(TimeSpan latency) => Interlocked.Decrement(ref _inFlight);
}
