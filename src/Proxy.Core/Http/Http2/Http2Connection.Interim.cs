namespace Proxy.Http.Http2;

public abstract partial class Http2Connection
{
    /// <summary>
    /// Sends an interim (1xx) response on <paramref name="stream"/>: HEADERS without END_STREAM, before the final
    /// response (RFC 9113 8.1). <paramref name="headers"/> is a validated response block (only :status and regular
    /// fields, no connection-specific ones), so it is encoded as it is. Called from another connection's read loop,
    /// which must not wait: the flush is started, not awaited.
    /// </summary>
    internal void RelayInterimResponse(Http2Stream stream, Http2HeaderList headers)
    {
        lock (_sync)
        {
            if (_closed || !CanSendLocked(stream) || stream.EndStreamSent)
            {
                return;
            }

            WriteHeadersLocked(stream.Id, headers, endStream: false);
        }

        ValueTask<bool> flush = FlushAsync();
        if (!flush.IsCompleted)
        {
            // Observed so a failed flush is not unobserved; the connection reports its end by itself.
            flush.AsTask().ContinueWith(static t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        }
        else
        {
            flush.GetAwaiter().GetResult();
        }
    }
}
