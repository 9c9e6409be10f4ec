using System.Runtime.CompilerServices;
using Proxy.Async;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    // The watch on the client once a streamed body went upstream whole (_uploadWatchState): the upload starts it, the
    // forwarder stops it when the response head arrives; whichever comes second sees the other's mark.
    private const int UploadWatchPending = 0;  // the upload still runs: it may start the watch when it ends
    private const int UploadWatchRunning = 1;  // the upload started the watch (_uploadWatch): the forwarder stops it
    private const int UploadWatchStopped = 2;  // the wait for the response head is over: no watch is started

    private int _uploadWatchState;
    private ValueTask<ClientWatch> _uploadWatch;

    /// <summary>An upload begins: the watch after it is not started yet (before the upload's first await).</summary>
    private void BeginUploadWatch() => Volatile.Write(ref _uploadWatchState, UploadWatchPending);

    /// <summary>
    /// The upload sent the whole body while the response head is still awaited: from here the client is watched as
    /// when its request was read whole (<see cref="WatchClientAsync"/>), so one that leaves (or leaves after sending
    /// pipelined bytes) is noticed at once rather than when the response is written. If the forwarder stopped waiting
    /// meanwhile, the watch just begun is ended here.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder))]
    private async ValueTask WatchAfterUploadAsync()
    {
        if (Volatile.Read(ref _uploadWatchState) != UploadWatchPending)
        {
            return; // the response head came first
        }

        var watch = WatchClientAsync();
        _uploadWatch = watch; // published by the exchange below, read by the forwarder only after it
        if (Interlocked.CompareExchange(ref _uploadWatchState, UploadWatchRunning, UploadWatchPending) != UploadWatchPending)
        {
            _uploadWatch = default;
            await StopWatchingClientAsync(watch).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The wait for the response head of a try with a streamed body is over: the watch the upload started, if any, is
    /// ended (<see cref="StopWatchingClientAsync"/>), and none is started later. True when the client went away.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> StopWatchAfterUploadAsync()
    {
        if (Interlocked.Exchange(ref _uploadWatchState, UploadWatchStopped) != UploadWatchRunning)
        {
            return false;
        }

        var watch = _uploadWatch;
        _uploadWatch = default;
        return await StopWatchingClientAsync(watch).ConfigureAwait(false);
    }
}
