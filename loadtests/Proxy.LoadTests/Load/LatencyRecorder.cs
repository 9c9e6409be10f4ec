using HdrHistogram;
using Proxy.LoadTests.Client;

namespace Proxy.LoadTests.Load;

/// <summary>
/// One worker's measurements: a latency histogram in microseconds and a count per outcome.
/// Owned by a single worker (no locks on the hot path); merged once at the end of the run.
/// </summary>
public sealed class LatencyRecorder
{
    /// <summary>The largest latency the histogram tracks; larger values are clamped to it.</summary>
    public const long MaxMicroseconds = 120_000_000;

    private readonly long[] _outcomes = new long[Enum.GetValues<RequestOutcome>().Length];

    /// <summary>Latency of answered requests, in microseconds, 3 significant digits.</summary>
    public LongHistogram Histogram { get; } = new(MaxMicroseconds, 3);

    /// <summary>Requests whose bytes were written.</summary>
    public long Sent { get; private set; }

    /// <summary>Stopwatch timestamp of the last completed request.</summary>
    public long LastCompletion { get; private set; }

    /// <summary>Count of requests that ended with <paramref name="outcome"/>.</summary>
    public long Count(RequestOutcome outcome) => _outcomes[(int)outcome];

    /// <summary>Records one request that started (or was due) at <paramref name="startTimestamp"/>.</summary>
    public void Record(in RequestResult result, long startTimestamp, long endTimestamp)
    {
        _outcomes[(int)result.Outcome]++;
        if (result.Sent)
        {
            Sent++;
        }

        LastCompletion = endTimestamp;

        // Every request that got an answer (or an error) contributes its latency; a lost one has no
        // end, and an unsent one is reported by count, so neither pollutes the distribution.
        if (result.Outcome is not RequestOutcome.Timeout and not RequestOutcome.Unsent)
        {
            long micros = (long)((endTimestamp - startTimestamp) * 1_000_000.0 / System.Diagnostics.Stopwatch.Frequency);
            Histogram.RecordValue(Math.Clamp(micros, 0, MaxMicroseconds));
        }
    }

    /// <summary>Adds <paramref name="other"/>'s measurements into this one.</summary>
    public void Add(LatencyRecorder other)
    {
        Histogram.Add(other.Histogram);
        for (int i = 0; i < _outcomes.Length; i++)
        {
            _outcomes[i] += other._outcomes[i];
        }

        Sent += other.Sent;
        LastCompletion = Math.Max(LastCompletion, other.LastCompletion);
    }
}
