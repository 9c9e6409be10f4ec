using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Proxy.Upstream;

/// <summary>
/// Load state of an endpoint, updated lock-free by the forwarders and read by the pickers and the
/// admin pages: requests in flight, and a peak-sensitive moving average of latency (as in
/// linkerd2-proxy and Finagle's Peak EWMA).
/// </summary>
public sealed partial class Endpoint
{
    /// <summary>Latency assumed for an endpoint with no completed request yet (linkerd2-proxy's default RTT).</summary>
    public const double DefaultLatencyEstimateMs = 30;

    /// <summary>Lower bound of <see cref="LatencyEstimateMs"/>, so that in-flight counts still matter after decay.</summary>
    public const double MinLatencyEstimateMs = 1;

    /// <summary>Time constant of the moving average: a sample's weight falls by 1/e every this many milliseconds.</summary>
    public const double LatencyDecayMs = 10_000;

    // After an hour without samples the estimate has decayed by e^-360: it is at the floor for good.
    // Readers then refresh the timestamp, which keeps the 32-bit millisecond clock below from wrapping
    // (2^32 ms is 49.7 days) on endpoints that are picked from but never complete a request.
    private const uint StaleAfterMs = 3_600_000;

    // Two writers may read the clock in one order and publish in the other; a timestamp up to this far
    // in the future is such a race (elapsed 0), not 49 days of wrap-around.
    private const uint ReorderWindowMs = 60_000;

    // Stored samples stay positive so that the packed state 0 always means "no sample yet".
    private const double MinStoredMs = 0.001;
    private const double MaxStoredMs = 1e9;

    private static readonly long s_ticksPerMs = Math.Max(1, Stopwatch.Frequency / 1000);

    private int _inFlight;

    // The estimate and the time it was last updated change together, so both live in one long that a
    // single CompareExchange replaces: high 32 bits the estimate in ms (float32), low 32 bits the update
    // time in ms (wrapping). A float keeps ~7 digits, ample for latencies.
    // 0 = never read nor sampled. A negative estimate is the default prior, not a measurement: like a
    // measurement it decays while unused (so a never-tried endpoint is eventually tried, as in
    // linkerd2-proxy), but unlike one the first real sample replaces it outright.
    private long _latency;

    /// <summary>Requests (or TCP streams) currently in progress on this endpoint.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>True once a request has completed and fed the latency estimate.</summary>
    public bool HasLatencySample => EstimateOf(Volatile.Read(ref _latency)) > 0;

    /// <summary>Called when a request or stream is sent to this endpoint.</summary>
    public void OnRequestStarted() => Interlocked.Increment(ref _inFlight);

    /// <summary>Called when it finishes, with its latency (time to response headers, or stream duration).</summary>
    public void OnRequestCompleted(TimeSpan latency) => OnRequestCompleted(latency, Stopwatch.GetTimestamp());

    /// <summary>
    /// Called when it finishes, with the <see cref="Stopwatch"/> timestamp it started at: one clock read gives both
    /// the latency and the time of the sample (a precise clock read costs 30-60 ns on a virtual machine's kvm-clock).
    /// </summary>
    public void OnRequestCompletedSince(long startTicks)
    {
        long now = Stopwatch.GetTimestamp();
        OnRequestCompleted(Stopwatch.GetElapsedTime(startTicks, now), now);
    }

    /// <summary>
    /// As <see cref="OnRequestCompleted(TimeSpan)"/>, with the completion time in <see cref="Stopwatch"/>
    /// ticks (the forwarder already read the clock to measure the latency; tests pass scripted time).
    /// </summary>
    public void OnRequestCompleted(TimeSpan latency, long nowTicks)
    {
        Interlocked.Decrement(ref _inFlight);
        RecordLatency(latency.TotalMilliseconds, nowTicks);
    }

    /// <summary>
    /// The latency estimate at <paramref name="nowTicks"/> (Stopwatch ticks), in milliseconds: the
    /// moving average decayed towards zero for the time since its last update, so an endpoint that
    /// stopped getting traffic after being slow is retried; never below <see cref="MinLatencyEstimateMs"/>.
    /// Before the first sample it is <see cref="DefaultLatencyEstimateMs"/>, decaying from the first call.
    /// </summary>
    public double LatencyEstimateMs(long nowTicks)
    {
        uint now = ToStampMs(nowTicks);
        long state = Volatile.Read(ref _latency);
        if (state == 0)
        {
            // First look at a fresh endpoint: start the default prior's decay clock now.
            Interlocked.CompareExchange(ref _latency, Pack(-(float)DefaultLatencyEstimateMs, now), 0);
            return DefaultLatencyEstimateMs;
        }

        uint elapsed = ElapsedMs(now, StampOf(state));
        double estimate = Math.Abs(EstimateOf(state));
        if (elapsed != 0)
        {
            if (elapsed >= StaleAfterMs)
            {
                RefreshStale(state, now);
                return MinLatencyEstimateMs;
            }

            estimate *= Math.Exp(-elapsed / LatencyDecayMs);
        }

        return Math.Max(estimate, MinLatencyEstimateMs);
    }

    private void RecordLatency(double sampleMs, long nowTicks)
    {
        // Clamp also turns NaN into the minimum (Math.Clamp returns NaN for NaN, so test explicitly).
        float sample = (float)(double.IsNaN(sampleMs) ? MinStoredMs : Math.Clamp(sampleMs, MinStoredMs, MaxStoredMs));
        uint now = ToStampMs(nowTicks);
        long current = Volatile.Read(ref _latency);
        while (true)
        {
            long next;
            float estimate = EstimateOf(current);
            if (estimate <= 0)
            {
                // The first sample is the estimate: a prior is a guess, not history to average with.
                next = Pack(sample, now);
            }
            else
            {
                uint stamp = StampOf(current);
                uint elapsed = ElapsedMs(now, stamp);
                if (sample > estimate)
                {
                    // Peak sensitivity: a slower response replaces the estimate at once.
                    next = Pack(sample, elapsed == 0 ? stamp : now);
                }
                else if (elapsed == 0)
                {
                    // The average is weighted by time, not by count: a faster sample within the same
                    // millisecond as the last update carries (almost) no weight.
                    return;
                }
                else
                {
                    // Decay the old estimate for the time elapsed; the new sample takes the remainder.
                    double decay = Math.Exp(-elapsed / LatencyDecayMs);
                    next = Pack((float)Math.Max(estimate * decay + sample * (1 - decay), MinStoredMs), now);
                }
            }

            if (next == current)
            {
                return;
            }

            long seen = Interlocked.CompareExchange(ref _latency, next, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RefreshStale(long state, uint now)
    {
        // Keep the sign (prior or measured). Losing this race to a writer is fine: its state is fresher.
        float floor = EstimateOf(state) < 0 ? -(float)MinStoredMs : (float)MinStoredMs;
        Interlocked.CompareExchange(ref _latency, Pack(floor, now), state);
    }

    private static uint ToStampMs(long ticks) => (uint)(ulong)(ticks / s_ticksPerMs);

    private static uint ElapsedMs(uint now, uint stamp)
    {
        uint elapsed = now - stamp;
        return elapsed > uint.MaxValue - ReorderWindowMs ? 0 : elapsed;
    }

    private static long Pack(float estimateMs, uint stampMs) =>
        (long)(((ulong)BitConverter.SingleToUInt32Bits(estimateMs) << 32) | stampMs);

    private static float EstimateOf(long state) => BitConverter.UInt32BitsToSingle((uint)((ulong)state >> 32));

    private static uint StampOf(long state) => (uint)state;
}
