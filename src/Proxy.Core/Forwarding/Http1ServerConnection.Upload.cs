using System.Buffers;
using System.IO.Pipelines;
using Proxy.Http.Http1;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    private long _uploadedBytes;

    /// <summary>
    /// Streams the request body to the upstream with backpressure: Content-Length bodies are copied
    /// as they are, chunked bodies are validated chunk by chunk and re-encoded. Runs beside the
    /// response read. Returns true when the whole body was sent.
    /// </summary>
    private async Task<bool> UploadBodyAsync(PipeWriter upstream)
    {
        _uploadedBytes = 0;
        try
        {
            if (!_request.IsChunked)
            {
                var ok = await PipeCopy.CopyLengthAsync(_input, upstream, _request.ContentLength, _activity).ConfigureAwait(false);
                _uploadedBytes = ok ? _request.ContentLength : 0;
                return ok;
            }

            _requestChunks.Reset();
            while (true)
            {
                var result = await _input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var reader = new SequenceReader<byte>(buffer);
                ChunkedDecodeStatus status;
                while ((status = _requestChunks.Decode(ref reader, out var data)) == ChunkedDecodeStatus.Data)
                {
                    _uploadedBytes += data.Length;
                    if (_maxBodyBytes > 0 && _uploadedBytes > _maxBodyBytes)
                    {
                        _input.AdvanceTo(reader.Position);
                        return false; // over the limit mid-stream: the upstream sees a truncated body
                    }

                    ChunkedEncoder.WriteChunk(upstream, data);
                }

                _input.AdvanceTo(reader.Position, buffer.End);
                _activity.Value = Environment.TickCount64;
                if (status == ChunkedDecodeStatus.Completed)
                {
                    ChunkedEncoder.WriteLastChunk(upstream, _requestChunks.TrailerBytes);
                    await upstream.FlushAsync().ConfigureAwait(false);
                    return true;
                }

                if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted || result.IsCanceled)
                {
                    return false;
                }

                if ((await upstream.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    return false;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException or Pipelines.Sockets.Unofficial.ConnectionResetException or Pipelines.Sockets.Unofficial.ConnectionAbortedException)
        {
            return false;
        }
    }
}
