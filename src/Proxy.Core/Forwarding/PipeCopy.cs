using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Transport;

namespace Proxy.Forwarding;

/// <summary>Copies between pipes with backpressure: exact lengths for bodies, to the end for tunnels.</summary>
public static class PipeCopy
{
    /// <summary>
    /// Copies exactly <paramref name="length"/> bytes. Returns false if the input ended first.
    /// <paramref name="activity"/> is stamped with Environment.TickCount64 whenever bytes move.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public static async ValueTask<bool> CopyLengthAsync(PipeReader input, PipeWriter output, long length, StrongBox<long> activity)
    {
        var remaining = length;
        while (remaining > 0)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return false; // the sending side reset: the body is incomplete
            }

            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start);
                return false;
            }

            var take = buffer.Length > remaining ? buffer.Slice(0, remaining) : buffer;
            foreach (var segment in take)
            {
                output.Write(segment.Span);
            }

            remaining -= take.Length;
            input.AdvanceTo(take.End);
            if (!take.IsEmpty)
            {
                activity.Value = Environment.TickCount64;
            }

            if (remaining > 0 && result.IsCompleted)
            {
                return false;
            }

            var flush = await output.FlushAsync().ConfigureAwait(false);
            if (flush.IsCompleted || flush.IsCanceled)
            {
                return remaining == 0;
            }
        }

        return true;
    }

    /// <summary>
    /// Copies until the input ends, then completes the output (half-close). Errors end the copy
    /// quietly. Returns the bytes copied.
    /// </summary>
    public static async Task<long> CopyToEndAsync(PipeReader input, PipeWriter output, StrongBox<long> activity)
    {
        long copied = 0;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                foreach (var segment in buffer)
                {
                    output.Write(segment.Span);
                }

                if (!buffer.IsEmpty)
                {
                    copied += buffer.Length;
                    activity.Value = Environment.TickCount64;
                }

                input.AdvanceTo(buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }

                var flush = await output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }

            await output.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            // one side went away: the tunnel is over
        }

        await output.CompleteAsync().ConfigureAwait(false);
        return copied;
    }
}
