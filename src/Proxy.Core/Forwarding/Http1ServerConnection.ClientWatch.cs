using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Transport;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>How a watch of the client's side ended (<see cref="WatchClientAsync"/>).</summary>
    private enum ClientWatch : byte
    {
        /// <summary>The forwarder stopped it: the response head arrived, or the wait ended otherwise.</summary>
        Stopped,

        /// <summary>Bytes of a pipelined next request arrived; they are left for the next head read.</summary>
        Bytes,

        /// <summary>The client closed its connection (FIN) or reset it.</summary>
        Gone,
    }

    /// <summary>
    /// True when the client's side closed while the last response head was awaited (<see cref="WatchClientAsync"/>);
    /// set when the wait ends.
    /// </summary>
    private bool _clientGone;

    /// <summary>
    /// Watches the client's side of the connection while the forwarder waits for an upstream's response head, the
    /// request having been read whole: one pending read of the client's input. The client's FIN or RST (the read
    /// completes, or throws) is a disconnect, as Envoy and nginx treat it: the wait is ended at once
    /// (<see cref="ResponseHeadTimeout.OnDownstreamGone"/> cancels the upstream read or resets the upstream stream)
    /// and the request is recorded with <see cref="ResponseFlag.DownstreamDisconnect"/>. Bytes of a pipelined next
    /// request are not: the watch ends without examining them, so the next head read sees them at once (a client that
    /// leaves after them is noticed when the response is written). <see cref="StopWatchingClientAsync"/> ends the
    /// watch otherwise. Nothing is allocated: the read is the pipe's own, the state machine pooled.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ClientWatch> WatchClientAsync()
    {
        ReadResult result;
        try
        {
            result = await _input.ReadAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            ResponseTimeout.OnDownstreamGone();
            return ClientWatch.Gone;
        }

        // Consumed and examined nothing: had the watch examined bytes, the pipe would hold the next read until more
        // arrived, and a pipelined request already here would wait for bytes that never come.
        _input.AdvanceTo(result.Buffer.Start);
        if (result.IsCompleted)
        {
            ResponseTimeout.OnDownstreamGone();
            return ClientWatch.Gone;
        }

        return result.IsCanceled ? ClientWatch.Stopped : ClientWatch.Bytes;
    }

    /// <summary>
    /// Ends the watch once the wait for the response head is over (its read is cancelled if still pending); true when
    /// the client went away. A read that ended on its own just before the cancellation leaves that cancellation
    /// pending on the pipe, where it would end the next read: it is taken off.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> StopWatchingClientAsync(ValueTask<ClientWatch> watch)
    {
        if (watch.IsCompleted)
        {
            return await watch.ConfigureAwait(false) == ClientWatch.Gone;
        }

        _input.CancelPendingRead();
        var ended = await watch.ConfigureAwait(false);
        if (ended != ClientWatch.Stopped)
        {
            StreamedBodyReplay.ClearPendingCancel(_input);
        }

        return ended == ClientWatch.Gone;
    }

    /// <summary>
    /// After a response body that could not be relayed whole: true when the client's side is what failed (its
    /// connection closed or reset, so writing to it ends), false when the upstream's did. The request is then
    /// recorded <see cref="ResponseFlag.DownstreamDisconnect"/> rather than <see cref="ResponseFlag.UpstreamReset"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ClientWentAwayAsync()
    {
        try
        {
            return (await _output.FlushAsync().ConfigureAwait(false)).IsCompleted;
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            return true;
        }
    }
}
