using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Resilience;

namespace Proxy.Forwarding;

/// <summary>
/// The part of a streamed request body already taken from the client, kept until the response head arrives so that
/// a try that failed before it (on an HTTP/2 cluster a refused stream, RFC 9113 8.7, or a reset or per-try timeout the
/// route retries; on an HTTP/1.1 cluster a connection closed or reset before any response byte, or a per-try timeout)
/// can send the body again: the retry replays these bytes, then streams the rest from the client.
/// Envoy's per-request retry buffer. Bounded by <see cref="RetryBodyBuffer.DefaultLimit"/>: once more was taken, or
/// once the response headers arrived, the memory goes back to the pool and the body cannot be replayed.
/// </summary>
/// <remarks>
/// Two parties use it while an attempt runs: the attempt's upload task records and replays, and the forwarder
/// discards it when the response headers arrive, possibly while the upload is sending the held bytes (their memory
/// then returns once that send ends). Between attempts the forwarder alone uses it. The lock is taken once per body
/// read and is uncontended but for that discard.
/// </remarks>
internal sealed class StreamedBodyReplay
{
    /// <summary>Idle objects the pool keeps at most; the memory of their bytes is returned, so each is small.</summary>
    private const int MaxRetained = 256;

    private static readonly Lock s_poolLock = new();
    private static readonly StreamedBodyReplay?[] s_idle = new StreamedBodyReplay?[MaxRetained];
    private static int s_idleCount;

    private readonly Lock _sync = new();
    private readonly RetryBodyBuffer _held;
    private bool _keeping = true; // every byte taken so far is held: no overflow, no response headers yet
    private bool _replaying;      // the upload is sending the held bytes: their memory stays until it is done

    public StreamedBodyReplay(int limit = RetryBodyBuffer.DefaultLimit) => _held = new RetryBodyBuffer(limit);

    /// <summary>True while every byte taken from the client is held, so a new attempt can send the body again.</summary>
    public bool CanReplay
    {
        get
        {
            lock (_sync)
            {
                return _keeping;
            }
        }
    }

    /// <summary>Bytes held.</summary>
    public int Length
    {
        get
        {
            lock (_sync)
            {
                return _held.Length;
            }
        }
    }

    /// <summary>An object for a request whose body streams (from a process-wide pool: no allocation in steady state).</summary>
    public static StreamedBodyReplay Rent()
    {
        lock (s_poolLock)
        {
            if (s_idleCount > 0)
            {
                StreamedBodyReplay replay = s_idle[--s_idleCount]!;
                s_idle[s_idleCount] = null;
                return replay;
            }
        }

        return new StreamedBodyReplay();
    }

    /// <summary>Takes back an object whose request ended (no upload uses it any more); its memory is returned first.</summary>
    public static void Return(StreamedBodyReplay replay)
    {
        replay.Reset();
        lock (s_poolLock)
        {
            if (s_idleCount < MaxRetained)
            {
                s_idle[s_idleCount++] = replay;
            }
        }
    }

    /// <summary>
    /// Upload: <paramref name="data"/> was taken from the client (sent or not: a retry must send it). More than the
    /// limit gives up keeping: the memory goes back now.
    /// </summary>
    public void Record(in ReadOnlySequence<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        lock (_sync)
        {
            if (_keeping && !_held.Append(data))
            {
                StopKeepingLocked();
            }
        }
    }

    /// <summary>
    /// Upload of a retry: sends the bytes earlier attempts took from the client, before it reads the client again
    /// (with END_STREAM when the client's body ended among them). False when the stream can no longer send.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    public async ValueTask<bool> SendHeldAsync(Http2Stream stream, bool endStream)
    {
        ReadOnlyMemory<byte> held;
        lock (_sync)
        {
            _replaying = true;
            held = _held.Buffered;
        }

        try
        {
            return (held.IsEmpty && !endStream) || await stream.Connection.SendDataAsync(stream, new ReadOnlySequence<byte>(held), endStream).ConfigureAwait(false);
        }
        finally
        {
            lock (_sync)
            {
                _replaying = false;
                if (!_keeping)
                {
                    _held.Reset(); // discarded while the bytes were being sent
                }
            }
        }
    }

    /// <summary>
    /// Upload of a retry to an HTTP/1.1 upstream: copies the bytes earlier tries took from the client into
    /// <paramref name="output"/> (the new connection's), before it reads the client again: as they are under a
    /// content-length, as one chunk when the request is <paramref name="chunked"/> (the held bytes are the decoded
    /// body, RFC 9112 7.1). The copy is made here, under the lock, so a discard meanwhile waits for it.
    /// </summary>
    public void WriteHeld(PipeWriter output, bool chunked)
    {
        lock (_sync)
        {
            ReadOnlySpan<byte> held = _held.Buffered.Span;
            if (held.IsEmpty)
            {
                return;
            }

            if (chunked)
            {
                ChunkedEncoder.WriteChunk(output, held);
            }
            else
            {
                output.Write(held);
            }
        }
    }

    /// <summary>
    /// No retry will replay the body (the response headers arrived, or the client's body broke off): nothing more is
    /// kept, and the memory goes back now (or once a replay in progress has been sent).
    /// </summary>
    public void Discard()
    {
        lock (_sync)
        {
            StopKeepingLocked();
        }
    }

    /// <summary>The request ended and no upload runs: memory returned, ready for the connection's next request.</summary>
    public void Reset()
    {
        lock (_sync)
        {
            _held.Reset();
            _keeping = true;
            _replaying = false;
        }
    }

    /// <summary>
    /// After the forwarder cancelled the client read to end an upload: an upload that ended in a send instead never
    /// saw the cancellation, which would then end the next read of this reader (a retry's upload, or the next request
    /// head). <see cref="PipeReader.TryRead"/> observes it; whatever bytes it returns stay unconsumed.
    /// </summary>
    public static void ClearPendingCancel(PipeReader input)
    {
        try
        {
            if (input.TryRead(out ReadResult result))
            {
                input.AdvanceTo(result.Buffer.Start);
            }
        }
        catch (Exception ex) when (ex is Http2StreamResetException || Http2Connection.IsConnectionLoss(ex))
        {
            // The client reset the stream or went away: its body is over anyway.
        }
    }

    private void StopKeepingLocked()
    {
        _keeping = false;
        if (!_replaying)
        {
            _held.Reset();
        }
    }
}
