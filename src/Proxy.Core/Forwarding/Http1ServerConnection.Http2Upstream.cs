using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    private Http2HeaderList? _http2Request; // reused: one request at a time per HTTP/1.1 connection

    /// <summary>
    /// h1 -> h2: the request head becomes HEADERS (:authority from Host, hop-by-hop fields dropped, names
    /// lowercased), the body DATA frames, and the response comes back as an HTTP/1.1 head with a Content-Length or
    /// chunked body; HTTP/2 trailers become chunked trailers.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ExchangeOverHttp2Async(Endpoint endpoint, Http2ConnectionPool pool, Cluster cluster, RouteRuntime action, RouteMetrics routeMetrics, bool hasBody, bool downstreamKeepAlive, long started)
    {
        Http2HeaderList headers = _http2Request ??= new Http2HeaderList();
        BuildHttp2Request(headers, hasBody);
        Http2Stream? stream = await pool.OpenStreamAsync(endpoint, headers, endStream: !hasBody, cluster.ConnectTimeout, cluster.Metrics).ConfigureAwait(false);
        if (stream is null)
        {
            return await AnswerAsync(routeMetrics, 502, ResponseFlag.UpstreamConnectFailure, started, close: hasBody || !downstreamKeepAlive, action.Route.Name, cluster.Name).ConfigureAwait(false);
        }

        Task<bool>? upload = null;
        try
        {
            upload = hasBody ? UploadToHttp2Async(stream) : null;
            bool received;
            try
            {
                received = action.Timeout is { } timeout
                    ? await stream.HeadersReceived.AsTask().WaitAsync(timeout).ConfigureAwait(false)
                    : await stream.HeadersReceived.ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                return await AnswerAsync(routeMetrics, 504, ResponseFlag.UpstreamTimeout, started, close: true, action.Route.Name, cluster.Name).ConfigureAwait(false);
            }

            if (!received)
            {
                return await AnswerAsync(routeMetrics, 502, ResponseFlag.UpstreamReset, started, close: true, action.Route.Name, cluster.Name).ConfigureAwait(false);
            }

            Http2HeaderList response = stream.ReceivedHeaders;
            int status = response.Status;
            bool bodiless = _request.Method == RequestMethod.Head || status is 204 or 304;
            bool hasLength = response.TryGetValue("content-length"u8, out _);
            bool chunked = !bodiless && !hasLength && _request.Version == Http1Version.Http11;
            bool keepAlive = downstreamKeepAlive && (bodiless || hasLength || chunked);
            WriteHttp1Response(response, status, chunked, keepAlive);
            long responseBytes = 0;
            bool complete = true;
            if (!bodiless)
            {
                (complete, responseBytes) = await RelayHttp2BodyAsync(stream, chunked).ConfigureAwait(false);
            }
            else
            {
                await _output.FlushAsync().ConfigureAwait(false);
            }

            bool uploaded = upload is null || (upload.IsCompleted && await upload.ConfigureAwait(false));
            Record(routeMetrics, status, complete ? ResponseFlag.None : ResponseFlag.UpstreamReset, started,
                _request.HeadLength + stream.SentBodyBytes, responseBytes, action.Route.Name, cluster.Name, endpoint);
            return complete && keepAlive && uploaded;
        }
        finally
        {
            if (upload is { IsCompleted: false })
            {
                // The exchange ended before the request body did (the connection closes: keep-alive needs the
                // upload). Stop the upload before the stream goes back to the pool: the reset wakes a send waiting
                // for window, the cancelled read wakes one waiting for client bytes.
                await stream.Connection.ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                _input.CancelPendingRead();
                await upload.ConfigureAwait(false);
            }

            await stream.Connection.ReleaseStreamAsync(stream).ConfigureAwait(false);
        }
    }

    private void BuildHttp2Request(Http2HeaderList headers, bool hasBody)
    {
        headers.Reset();
        headers.Add(":method"u8, _request.MethodBytes);
        headers.Add(":scheme"u8, "http"u8);
        headers.Add(":authority"u8, _request.Host.IsEmpty ? _request.Authority : _request.Host);
        headers.Add(":path"u8, _request.PathAndQuery.IsEmpty ? "/"u8 : _request.PathAndQuery);
        ReadOnlySpan<Http1HeaderField> fields = _request.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            Http1HeaderField field = fields[i];
            if (field.IsHopByHop || field.Kind is KnownHeader.Host or KnownHeader.TransferEncoding ||
                (field.Kind == KnownHeader.ContentLength && (!hasBody || _request.IsChunked)) ||
                field.Kind == KnownHeader.XForwardedFor || field.Kind == KnownHeader.XForwardedProto)
            {
                continue;
            }

            headers.AddLowercase(_request.GetName(i), _request.GetValue(i));
        }

        if (_request.TryGetValue("x-forwarded-for"u8, out ReadOnlySpan<byte> forwarded))
        {
            Span<byte> joined = stackalloc byte[Math.Min(forwarded.Length + 2 + _clientAddressText.Length, 2048)];
            if (forwarded.Length + 2 + _clientAddressText.Length <= joined.Length)
            {
                forwarded.CopyTo(joined);
                ", "u8.CopyTo(joined[forwarded.Length..]);
                _clientAddressText.CopyTo(joined[(forwarded.Length + 2)..]);
                headers.Add("x-forwarded-for"u8, joined);
            }
        }
        else
        {
            headers.Add("x-forwarded-for"u8, _clientAddressText);
        }

        headers.Add("x-forwarded-proto"u8, "http"u8);
        if (!_request.Contains(KnownHeader.XRequestId))
        {
            Span<byte> id = stackalloc byte[36];
            RequestIds.Write(id);
            headers.Add("x-request-id"u8, id);
        }
    }

    private void WriteHttp1Response(Http2HeaderList response, int status, bool chunked, bool keepAlive)
    {
        PipeWriter output = _output;
        output.Write("HTTP/1.1 "u8);
        Span<byte> digits = stackalloc byte[3];
        Utf8Formatter.TryFormat(status, digits, out _);
        output.Write(digits);
        output.Write(" "u8);
        output.Write(ReasonPhrases.Get(status));
        output.Write("\r\n"u8);
        for (int i = 0; i < response.Count; i++)
        {
            output.Write(response.GetName(i));
            output.Write(": "u8);
            output.Write(response.GetValue(i));
            output.Write("\r\n"u8);
        }

        if (chunked)
        {
            output.Write("transfer-encoding: chunked\r\n"u8);
        }

        output.Write(keepAlive ? "\r\n"u8 : "connection: close\r\n\r\n"u8);
    }

    /// <summary>Streams the HTTP/1.1 request body into the upstream stream, then END_STREAM.</summary>
    private async Task<bool> UploadToHttp2Async(Http2Stream stream)
    {
        Http2Connection connection = stream.Connection;
        try
        {
            if (!_request.IsChunked)
            {
                long remaining = _request.ContentLength;
                while (remaining > 0)
                {
                    ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
                    ReadOnlySequence<byte> buffer = result.Buffer.Length > remaining ? result.Buffer.Slice(0, remaining) : result.Buffer;
                    remaining -= buffer.Length;
                    bool sent = await connection.SendDataAsync(stream, buffer, endStream: remaining == 0).ConfigureAwait(false);
                    _input.AdvanceTo(buffer.End);
                    _uploadedBytes += buffer.Length;
                    if (!sent || (remaining > 0 && (result.IsCompleted || result.IsCanceled)))
                    {
                        return false;
                    }
                }

                return true;
            }

            _requestChunks.Reset();
            while (true)
            {
                ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                ChunkedDecodeStatus status;
                SequencePosition consumed;
                while ((status = DecodeRequestChunk(buffer, out ReadOnlySequence<byte> data, out consumed)) == ChunkedDecodeStatus.Data)
                {
                    bool sent = await connection.SendDataAsync(stream, data, endStream: false).ConfigureAwait(false);
                    buffer = buffer.Slice(consumed);
                    if (!sent)
                    {
                        _input.AdvanceTo(consumed);
                        return false;
                    }
                }

                _input.AdvanceTo(consumed, buffer.End);
                if (status == ChunkedDecodeStatus.Completed)
                {
                    return await connection.SendDataAsync(stream, ReadOnlySequence<byte>.Empty, endStream: true).ConfigureAwait(false);
                }

                if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted || result.IsCanceled)
                {
                    return false;
                }
            }
        }
        catch (Exception ex) when (Http2Connection.IsConnectionLoss(ex))
        {
            return false;
        }
    }

    private ChunkedDecodeStatus DecodeRequestChunk(in ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkedDecodeStatus status = _requestChunks.Decode(ref reader, out data);
        consumed = reader.Position;
        return status;
    }

    /// <summary>Copies the upstream stream's body to the client (chunked or as is) and its trailers as chunked trailers.</summary>
    private async ValueTask<(bool Complete, long Bytes)> RelayHttp2BodyAsync(Http2Stream stream, bool chunked)
    {
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await stream.Input.ReadAsync().ConfigureAwait(false);
            }
            catch (Http2StreamResetException)
            {
                await _output.FlushAsync().ConfigureAwait(false);
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (!buffer.IsEmpty)
            {
                if (chunked)
                {
                    ChunkedEncoder.WriteChunk(_output, buffer);
                }
                else
                {
                    foreach (ReadOnlyMemory<byte> segment in buffer)
                    {
                        _output.Write(segment.Span);
                    }
                }
            }

            int length = (int)buffer.Length;
            bytes += length;
            stream.Input.AdvanceTo(buffer.End);
            _activity.Value = Environment.TickCount64;
            if (result.IsCompleted)
            {
                if (chunked)
                {
                    _output.Write("0\r\n"u8);
                    if (stream.HasTrailers)
                    {
                        Http2HeaderList trailers = stream.ReceivedTrailers;
                        for (int i = 0; i < trailers.Count; i++)
                        {
                            _output.Write(trailers.GetName(i));
                            _output.Write(": "u8);
                            _output.Write(trailers.GetValue(i));
                            _output.Write("\r\n"u8);
                        }
                    }

                    _output.Write("\r\n"u8);
                }

                FlushResult done = await _output.FlushAsync().ConfigureAwait(false);
                return (!done.IsCompleted, bytes);
            }

            FlushResult flush = await _output.FlushAsync().ConfigureAwait(false);
            await stream.Connection.OnDataConsumed(stream, length).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                return (false, bytes);
            }
        }
    }
}
