using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http;
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
    /// request are not: they are looked at but not taken, and the watch goes on, so a client that leaves after sending
    /// them is noticed at once too; the next head read takes them (it tries what is there first,
    /// <see cref="ReadRequestHeadAsync"/>). A request that may become a tunnel (an upgrade, CONNECT) stops watching at
    /// its first bytes instead, which the tunnel then reads, and so does one whose pipelined bytes outgrow a request head. <see cref="StopWatchingClientAsync"/> ends the watch
    /// otherwise. Nothing is allocated: the read is the pipe's own, the state machine pooled.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<ClientWatch> WatchClientAsync()
    {
        var throughPipelined = !_request.IsUpgradeRequest && _request.Method != RequestMethod.Connect;
        while (true)
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

            if (result.IsCompleted)
            {
                _input.AdvanceTo(result.Buffer.Start);
                ResponseTimeout.OnDownstreamGone();
                return ClientWatch.Gone;
            }

            // Examined bytes no longer count toward the pipe's pause threshold: the watch goes on only while what
            // it looked at fits a request head, so a client cannot make the proxy buffer without limit meanwhile.
            if (result.IsCanceled || !throughPipelined || result.Buffer.Length > _routing.Limits.MaxHeaderBytes)
            {
                // Consumed and examined nothing, so the next read sees whatever is here at once.
                _input.AdvanceTo(result.Buffer.Start);
                return result.IsCanceled ? ClientWatch.Stopped : ClientWatch.Bytes;
            }

            // Examined, not consumed: the next read waits for more bytes, the client's FIN or RST, or the stop.
            _input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
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
