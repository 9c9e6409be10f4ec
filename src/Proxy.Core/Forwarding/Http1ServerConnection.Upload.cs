using Proxy.Transport;
using System.Buffers;
using Proxy.Http.Http1;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    private long _uploadedBytes;
    private Http1ParseError _uploadError;
    private bool _uploadTooLarge;

    /// <summary>
    /// Streams the request body to the upstream with backpressure: Content-Length bodies are copied
    /// as they are, chunked bodies are validated chunk by chunk and re-encoded. Runs beside the
    /// response read. Returns true when the whole body was sent.
    /// </summary>
    private async Task<bool> UploadBodyAsync(Upstream.UpstreamConnection connection)
    {
        var upstream = connection.Output;
        _uploadedBytes = 0;
        _uploadError = Http1ParseError.None;
        _uploadTooLarge = false;
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
                        // Over the limit mid-stream: cut the upstream off; the client gets 413.
                        _input.AdvanceTo(reader.Position);
                        _uploadTooLarge = true;
                        connection.Dispose();
                        return false;
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

                if (status == ChunkedDecodeStatus.Invalid)
                {
                    // Cut the upstream off so the response wait ends; the client gets a 400.
                    _uploadError = _requestChunks.Error;
                    connection.Dispose();
                    return false;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    return false;
                }

                if ((await upstream.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    return false;
                }
            }
        }
        catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
        {
            return false;
        }
    }
}
