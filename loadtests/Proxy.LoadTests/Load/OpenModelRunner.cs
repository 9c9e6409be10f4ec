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
        // Synchronous continuations: writing a due request runs a waiting worker's send right on the
        // scheduler thread, one thread hop less between the intended time and the bytes leaving.
        var channel = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleWriter = true, AllowSynchronousContinuations = true });
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
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var scheduler = new Thread(() => done.SetResult(Schedule(channel.Writer, schedule, start, cancellationToken)))
        {
            IsBackground = true,
            Name = "load-scheduler",
            Priority = ThreadPriority.AboveNormal,
        };
        scheduler.Start();
        long scheduled = await done.Task.ConfigureAwait(false);
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

    /// <summary>
    /// Writes each request's intended start time into the queue when it falls due. Runs on its own
    /// thread and sleeps in whole milliseconds (the OS timer's resolution; spinning would steal a
    /// core from the proxy being measured), so a request can leave up to about a millisecond after
    /// its intended time. That lag is charged to the request (its latency starts at 'due'), never hidden.
    /// </summary>
    private static long Schedule(ChannelWriter<long> writer, IArrivalSchedule schedule, long start, CancellationToken ct)
    {
        long index = 0;
        double ticksPerSecond = Stopwatch.Frequency;
        long ticksPerMs = Stopwatch.Frequency / 1000;
        while (!ct.IsCancellationRequested && schedule.TryGetOffset(index, out var offset))
        {
            long due = start + (long)(offset.TotalSeconds * ticksPerSecond);
            long wait = due - Stopwatch.GetTimestamp();
            if (wait > 0)
            {
                Thread.Sleep((int)Math.Max(1, (wait / ticksPerMs) - 1));
                if (Stopwatch.GetTimestamp() < due - (ticksPerMs / 2))
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
