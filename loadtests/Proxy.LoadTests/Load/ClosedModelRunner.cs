using System.Diagnostics;
using Proxy.LoadTests.Client;

namespace Proxy.LoadTests.Load;

/// <summary>
/// The closed model: K workers, each with one connection and one request in flight, sending the
/// next request as soon as the previous one ends. Latency is measured from each actual send (in a
/// closed model the arrival rate follows the target's speed, which is the point of it).
/// </summary>
public static class ClosedModelRunner
{
    /// <summary>Runs <paramref name="concurrency"/> workers for <paramref name="duration"/> or <paramref name="maxRequests"/>, whichever ends first.</summary>
    public static async Task<LoadResult> RunAsync(
        ILoadConnectionFactory factory,
        int concurrency,
        TimeSpan duration,
        long maxRequests,
        LoadRunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new LoadRunOptions();
        var counter = new long[1];
        var recorders = new LatencyRecorder[concurrency];
        var workers = new Task[concurrency];
        long start = Stopwatch.GetTimestamp();
        long end = start + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        for (int i = 0; i < concurrency; i++)
        {
            var recorder = recorders[i] = new LatencyRecorder();
            var connection = factory.Create();
            workers[i] = Task.Run(async () =>
            {
                using (connection)
                {
                    while (!cancellationToken.IsCancellationRequested && Stopwatch.GetTimestamp() < end
                           && Interlocked.Increment(ref counter[0]) <= maxRequests)
                    {
                        long sentAt = Stopwatch.GetTimestamp();
                        var result = await connection.SendAsync(options.ResponseTimeout).ConfigureAwait(false);
                        recorder.Record(result, sentAt, Stopwatch.GetTimestamp());
                    }
                }
            }, CancellationToken.None);
        }

        await Task.WhenAll(workers).ConfigureAwait(false);
        var merged = new LatencyRecorder();
        foreach (var r in recorders)
        {
            merged.Add(r);
        }

        long started = Math.Min(Volatile.Read(ref counter[0]), maxRequests);
        long scheduled = merged.Sent + merged.Count(RequestOutcome.ConnectFailed);
        return LoadResult.From(factory.Description, $"constant concurrency {concurrency} for {duration.TotalSeconds:0.#}s",
            merged, Math.Min(started, scheduled), start);
    }
}
