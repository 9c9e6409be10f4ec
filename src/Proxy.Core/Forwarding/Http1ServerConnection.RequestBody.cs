using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http.Http1;
using Proxy.LoadBalancing;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>Reads a Content-Length body of at most 64 KiB into the retry buffer.</summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    private async ValueTask<bool> BufferBodyAsync(long length)
    {
        var remaining = length;
        while (remaining > 0)
        {
            ReadResult result;
            try
            {
                result = await _input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return false;
            }

            var buffer = result.Buffer;
            var take = buffer.Length > remaining ? buffer.Slice(0, remaining) : buffer;
            _retryBody.Append(take);
            remaining -= take.Length;
            _input.AdvanceTo(take.End);
            if (remaining > 0 && (result.IsCompleted || result.IsCanceled))
            {
                return false;
            }
        }

        _activity.Value = Environment.TickCount64;
        return true;
    }

    /// <summary>Validates the chunked body bytes already buffered, without consuming them.</summary>
    private Http1ParseError PeekChunkedError()
    {
        if (!_input.TryRead(out var result))
        {
            return Http1ParseError.None;
        }

        var reader = new SequenceReader<byte>(result.Buffer);
        RequestChunks.Reset();
        while (RequestChunks.Decode(ref reader, out _) == ChunkedDecodeStatus.Data)
        {
        }

        var error = RequestChunks.Error;
        RequestChunks.Reset();
        _input.AdvanceTo(result.Buffer.Start);
        return error;
    }
}
