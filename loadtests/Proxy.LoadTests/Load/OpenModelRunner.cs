using System.Diagnostics;
using System.Threading.Channels;
using Proxy.LoadTests.Client;

namespace Proxy.LoadTests.Load;

/// <summary>
/// The open model: requests arrive on a schedule whatever the target's speed, and are served by a
/// pool of N connections. Latency is measured from each request's intended start, so time spent
/// waiting for a free connection counts (the correction for coordinated omission: a slow target
/// cannot hide its stalls by slowing the generator down).
/// </summary>
public static class OpenModelRunner
{
    /// <summary>Runs <paramref name="schedule"/> on <paramref name="connections"/> connections from <paramref name="factory"/>.</summary>
    public static async Task<LoadResult> RunAsync(
        ILoadConnectionFactory factory,
        IArrivalSchedule schedule,
        int connections,
        string simulation,
        LoadRunOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new LoadRunOptions();
        var channel = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleWriter = true });
        var state = new DrainState();
        var recorders = new LatencyRecorder[connections];
        var workers = new Task[connections];
        for (int i = 0; i < connections; i++)
        {
            recorders[i] = new LatencyRecorder();
            var connection = factory.Create();
            var recorder = recorders[i];
            workers[i] = Task.Run(() => WorkAsync(connection, channel.Reader, recorder, state, options.ResponseTimeout, cancellationToken), CancellationToken.None);
        }

        long start = Stopwatch.GetTimestamp();
        long scheduled = await ScheduleAsync(channel.Writer, schedule, start, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref state.Deadline, Stopwatch.GetTimestamp() + (long)(options.DrainTimeout.TotalSeconds * Stopwatch.Frequency));
        channel.Writer.Complete();
        await Task.WhenAll(workers).ConfigureAwait(false);

        var merged = new LatencyRecorder();
        foreach (var r in recorders)
        {
            merged.Add(r);
        }

        return LoadResult.From(factory.Description, simulation, merged, scheduled, start);
    }

    /// <summary>Writes each request's intended start time into the queue when it falls due.</summary>
    private static async Task<long> ScheduleAsync(ChannelWriter<long> writer, IArrivalSchedule schedule, long start, CancellationToken ct)
    {
        long index = 0;
        double ticksPerSecond = Stopwatch.Frequency;
        while (!ct.IsCancellationRequested && schedule.TryGetOffset(index, out var offset))
        {
            long due = start + (long)(offset.TotalSeconds * ticksPerSecond);
            long now = Stopwatch.GetTimestamp();
            if (due > now)
            {
                // Timers have about a millisecond of resolution: sleep the whole milliseconds, and for
                // a remainder below one, yield a timer tick. A late wake-up is charged to the request
                // (its latency starts at 'due'), never hidden.
                int ms = (int)((due - now) * 1000 / Stopwatch.Frequency);
                try
                {
                    await Task.Delay(Math.Max(ms, 1), ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                if (Stopwatch.GetTimestamp() < due)
                {
                    continue;
                }
            }

            writer.TryWrite(due);
            index++;
        }

        return index;
    }

    private static async Task WorkAsync(
        ILoadConnection connection, ChannelReader<long> reader, LatencyRecorder recorder, DrainState state, TimeSpan timeout, CancellationToken ct)
    {
        using (connection)
        {
            while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
            {
                while (reader.TryRead(out long due))
                {
                    if (ct.IsCancellationRequested || Stopwatch.GetTimestamp() > Volatile.Read(ref state.Deadline))
                    {
                        recorder.Record(new RequestResult(RequestOutcome.Unsent, 0, Sent: false), due, Stopwatch.GetTimestamp());
                        continue;
                    }

                    var result = await connection.SendAsync(timeout).ConfigureAwait(false);
                    recorder.Record(result, due, Stopwatch.GetTimestamp());
                }
            }
        }
    }

    /// <summary>When queued requests stop being sent (set once the schedule is over).</summary>
    private sealed class DrainState
    {
        public long Deadline = long.MaxValue;
    }
}
