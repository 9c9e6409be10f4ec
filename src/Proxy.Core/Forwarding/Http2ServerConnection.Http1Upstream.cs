using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Net.Sockets;
using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// h2 -> h1: the request head is built from the pseudo-headers (Host from :authority), TE dropped, the body
    /// framed with Content-Length when the client gave one and chunked otherwise (request trailers become chunked
    /// trailers); the response head becomes HEADERS with lowercased names and chunked trailers become a trailing
    /// HEADERS frame. Interim responses (100, 103) are relayed as they arrive; a 101 is answered 502.
    /// </summary>
    private async ValueTask ForwardToHttp1Async(Http2Stream stream, Endpoint endpoint, Cluster cluster, RouteMetrics metrics, TimeSpan? timeout, bool grpc, long started)
    {
        Http2HeaderList request = stream.ReceivedHeaders;
        bool hasBody = !(stream.EndStreamReceived && stream.ReceivedBodyBytes == 0 && !stream.HasTrailers);
        long contentLength = -1;
        if (request.TryGetValue("content-length"u8, out ReadOnlySpan<byte> lengthText) &&
            (!Utf8Parser.TryParse(lengthText, out contentLength, out int used) || used != lengthText.Length || contentLength < 0))
        {
            await ResetAsync(stream, Http2ErrorCode.ProtocolError).ConfigureAwait(false);
            return;
        }

        bool chunked = hasBody && contentLength < 0;
        UpstreamConnection? upstream = endpoint.Pool.TryRent(Environment.TickCount64)
            ?? await ConnectHttp1Async(endpoint, cluster).ConfigureAwait(false);
        if (upstream is null)
        {
            await AnswerAsync(stream, metrics, 502, ResponseFlag.UpstreamConnectFailure, grpc, started).ConfigureAwait(false);
            return;
        }

        bool reusable = false;
        Task<bool>? upload = null;
        using CancellationTokenSource? deadline = timeout is { } t ? new CancellationTokenSource(t) : null;
        try
        {
            upstream.Requests++;
            WriteHttp1RequestHead(upstream.Output, request, hasBody, contentLength, chunked);
            FlushResult flush = await upstream.Output.FlushAsync().ConfigureAwait(false);
            upload = hasBody && !flush.IsCompleted ? UploadToHttp1Async(stream, upstream.Output, chunked) : null;
            var response = new Http1ResponseHead(Http1Limits.Default);
            RequestMethod method = RequestMethods.Parse(request.Method);
            HeadReadResult head = flush.IsCompleted
                ? HeadReadResult.Closed
                : await ReadHttp1ResponseHeadAsync(upstream.Input, response, stream, deadline?.Token ?? default).ConfigureAwait(false);

            // RFC 9113 8.6: HTTP/2 has no 101 (Switching Protocols). No Upgrade crosses from an HTTP/2 request (8.2.2),
            // so the upstream switched on its own, and what follows on its connection is nothing a client can be sent.
            if (head == HeadReadResult.Parsed && response.StatusCode == 101)
            {
                head = HeadReadResult.Invalid;
            }

            if (head != HeadReadResult.Parsed)
            {
                ResponseFlag flag = head switch
                {
                    HeadReadResult.TimedOut => ResponseFlag.UpstreamTimeout,
                    HeadReadResult.Invalid => ResponseFlag.BadUpstreamResponse,
                    _ => ResponseFlag.UpstreamReset,
                };
                await AnswerAsync(stream, metrics, flag == ResponseFlag.UpstreamTimeout ? 504 : 502, flag, grpc, started).ConfigureAwait(false);
                return;
            }

            Http1BodyFraming framing = response.GetBodyFraming(method);
            Http2HeaderList headers = stream.Outgoing;
            headers.Reset();
            StageResponseHead(headers, response, keepContentLength: framing is Http1BodyFraming.ContentLength or Http1BodyFraming.None);
            bool noBody = framing == Http1BodyFraming.None || (framing == Http1BodyFraming.ContentLength && response.ContentLength == 0);
            if (!await SendHeadersAsync(stream, headers, noBody).ConfigureAwait(false))
            {
                return;
            }

            (bool complete, long bytes) = framing switch
            {
                Http1BodyFraming.None => (true, 0L),
                Http1BodyFraming.ContentLength when response.ContentLength == 0 => (true, 0L),
                Http1BodyFraming.ContentLength => (await CopyLengthAsync(upstream.Input, stream, response.ContentLength).ConfigureAwait(false), response.ContentLength),
                Http1BodyFraming.Chunked => await CopyChunkedAsync(upstream.Input, stream).ConfigureAwait(false),
                _ => await CopyUntilCloseAsync(upstream.Input, stream).ConfigureAwait(false),
            };

            bool uploaded = upload is null || (upload.IsCompleted && await upload.ConfigureAwait(false));
            reusable = complete && uploaded && response.KeepAlive && framing is Http1BodyFraming.None or Http1BodyFraming.ContentLength or Http1BodyFraming.Chunked;
            ResponseFlag result = complete ? ResponseFlag.None : ResponseFlag.UpstreamReset;
            if (!complete)
            {
                await ResetAsync(stream, Http2ErrorCode.InternalError).ConfigureAwait(false);
            }

            metrics.Get(response.StatusCode, result, grpc).Record(ElapsedMilliseconds(started), request.Size + stream.ReceivedBodyBytes, response.HeadLength + bytes);
        }
        finally
        {
            if (reusable)
            {
                endpoint.Pool.Return(upstream, Environment.TickCount64);
            }
            else if (upload is null || upload.IsCompleted)
            {
                upstream.Close(); // nothing else uses it: the orderly close (Transport/SocketClose)
            }
            else
            {
                upstream.Dispose(); // the upload may be writing to it right now
            }

            if (upload is { IsCompleted: false })
            {
                // The exchange ended before the request body did. The stream goes back to the pool once the caller
                // releases it, so the upload must be over first: the reset ends its body reads, the cancelled read
                // wakes one in progress, and the upstream pipe it writes to is gone.
                await ResetAsync(stream, Http2ErrorCode.Cancel).ConfigureAwait(false);
                stream.Input.CancelPendingRead();
                await upload.ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask<UpstreamConnection?> ConnectHttp1Async(Endpoint endpoint, Cluster cluster)
    {
        long started = Environment.TickCount64;
        try
        {
            var socket = await Connector.ConnectAsync(endpoint.Address, cluster.ConnectTimeout).ConfigureAwait(false);
            cluster.Metrics.Connections.Increment();
            cluster.Metrics.ConnectDuration.Observe(Environment.TickCount64 - started);
            return new UpstreamConnection(socket, endpoint);
        }
        catch (TimeoutException)
        {
            cluster.Metrics.ConnectTimeouts.Increment();
        }
        catch (SocketException)
        {
            cluster.Metrics.ConnectRefused.Increment();
        }

        return null;
    }

    /// <summary>
    /// "METHOD path HTTP/1.1", Host from :authority, the regular fields (cookies joined, 8.2.3; x-request-id among
    /// them, see <see cref="AddRequestIdIfMissing"/>), framing, proxy fields.
    /// </summary>
    private void WriteHttp1RequestHead(PipeWriter output, Http2HeaderList request, bool hasBody, long contentLength, bool chunked)
    {
        Write(output, request.Method);
        Write(output, " "u8);
        Write(output, request.Path);
        Write(output, " HTTP/1.1\r\nhost: "u8);
        ReadOnlySpan<byte> authority = request.Authority;
        if (authority.IsEmpty)
        {
            request.TryGetValue("host"u8, out authority);
        }

        Write(output, authority);
        Write(output, "\r\n"u8);
        bool cookieWritten = false;
        for (int i = 0; i < request.Count; i++)
        {
            ReadOnlySpan<byte> name = request.GetName(i);
            KnownHeader kind = KnownHeaders.Classify(name);
            if (kind is KnownHeader.Host or KnownHeader.TE or KnownHeader.ContentLength || IsReplacedRequestField(name))
            {
                continue;
            }

            if (name.SequenceEqual("cookie"u8))
            {
                if (!cookieWritten)
                {
                    WriteJoinedCookies(output, request);
                    cookieWritten = true;
                }

                continue;
            }

            WriteField(output, name, request.GetValue(i));
        }

        if (hasBody)
        {
            if (chunked)
            {
                Write(output, "transfer-encoding: chunked\r\n"u8);
            }
            else
            {
                Span<byte> digits = stackalloc byte[20];
                Utf8Formatter.TryFormat(contentLength, digits, out int written);
                WriteField(output, "content-length"u8, digits[..written]);
            }
        }

        Write(output, "x-forwarded-for: "u8);
        if (request.TryGetValue("x-forwarded-for"u8, out ReadOnlySpan<byte> forwarded))
        {
            Write(output, forwarded);
            Write(output, ", "u8);
        }

        Write(output, _clientAddressText);
        Write(output, "\r\nx-forwarded-proto: http\r\n\r\n"u8);
    }

    private static void WriteJoinedCookies(PipeWriter output, Http2HeaderList request)
    {
        Write(output, "cookie: "u8);
        bool first = true;
        for (int i = 0; i < request.Count; i++)
        {
            if (request.GetName(i).SequenceEqual("cookie"u8))
            {
                if (!first)
                {
                    Write(output, "; "u8);
                }

                Write(output, request.GetValue(i));
                first = false;
            }
        }

        Write(output, "\r\n"u8);
    }

    private static void WriteField(IBufferWriter<byte> output, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Write(output, name);
        Write(output, ": "u8);
        Write(output, value);
        Write(output, "\r\n"u8);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (!bytes.IsEmpty)
        {
            output.Write(bytes);
        }
    }

    /// <summary>
    /// Stages an HTTP/1.1 response head as an HTTP/2 block: :status, then the fields with lowercased names (RFC 9113
    /// 8.2.1), without the hop-by-hop and connection-specific ones (8.2.2), and without a Content-Length unless it
    /// describes the body that follows (<paramref name="keepContentLength"/>).
    /// </summary>
    private static void StageResponseHead(Http2HeaderList headers, Http1ResponseHead response, bool keepContentLength)
    {
        headers.AddStatus(response.StatusCode);
        ReadOnlySpan<Http1HeaderField> fields = response.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            Http1HeaderField field = fields[i];
            if (field.IsHopByHop || field.Kind == KnownHeader.TransferEncoding || (field.Kind == KnownHeader.ContentLength && !keepContentLength))
            {
                continue;
            }

            headers.AddLowercase(response.GetName(i), response.GetValue(i));
        }
    }

    /// <summary>
    /// Reads the upstream's final response head. Interim ones (100 Continue, 103 Early Hints) are relayed to the
    /// client on the way, as a proxy must (RFC 9110 15.2); a 101 is returned like a final head, for the caller to refuse.
    /// </summary>
    private async ValueTask<HeadReadResult> ReadHttp1ResponseHeadAsync(PipeReader input, Http1ResponseHead response, Http2Stream stream, CancellationToken deadline)
    {
        bool sawAnyByte = false;
        while (true)
        {
            response.Reset();
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return HeadReadResult.TimedOut;
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return sawAnyByte ? HeadReadResult.Truncated : HeadReadResult.Closed;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (TryParseHead(response, buffer, out SequencePosition end, out Http1ParseError error))
            {
                input.AdvanceTo(end);
                if (response.StatusCode is >= 100 and < 200 && response.StatusCode != 101)
                {
                    // RFC 9113 8.1: each interim response is a HEADERS block without END_STREAM, as many as come
                    // before the final one. RFC 9110 8.6: a 1xx has no content, so no Content-Length goes with it.
                    sawAnyByte = true;
                    Http2HeaderList interim = stream.Outgoing;
                    interim.Reset();
                    StageResponseHead(interim, response, keepContentLength: false);
                    RelayInterimResponse(stream, interim);
                    continue;
                }

                return HeadReadResult.Parsed;
            }

            if (error != Http1ParseError.None)
            {
                input.AdvanceTo(buffer.Start);
                return HeadReadResult.Invalid;
            }

            sawAnyByte |= !buffer.IsEmpty;
            if (result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.End);
                return sawAnyByte ? HeadReadResult.Truncated : HeadReadResult.Closed;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static bool TryParseHead(Http1ResponseHead response, in ReadOnlySequence<byte> buffer, out SequencePosition end, out Http1ParseError error)
    {
        var reader = new SequenceReader<byte>(buffer);
        bool parsed = response.TryParse(ref reader, out error);
        end = reader.Position;
        return parsed;
    }

    /// <summary>Streams the downstream body to the HTTP/1.1 upstream, as it is or chunked with trailers.</summary>
    private async Task<bool> UploadToHttp1Async(Http2Stream stream, PipeWriter output, bool chunked)
    {
        try
        {
            while (true)
            {
                ReadResult result = await stream.Input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                int length = (int)buffer.Length;
                if (length > 0)
                {
                    if (chunked)
                    {
                        ChunkedEncoder.WriteChunk(output, buffer);
                    }
                    else
                    {
                        foreach (ReadOnlyMemory<byte> segment in buffer)
                        {
                            output.Write(segment.Span);
                        }
                    }
                }

                stream.Input.AdvanceTo(buffer.End);
                if (result.IsCanceled)
                {
                    return false; // the exchange ended first (see ForwardToHttp1Async)
                }

                if (result.IsCompleted)
                {
                    if (chunked)
                    {
                        WriteLastChunk(output, stream);
                    }

                    await output.FlushAsync().ConfigureAwait(false);
                    await OnDataConsumed(stream, length).ConfigureAwait(false);
                    return true;
                }

                if ((await output.FlushAsync().ConfigureAwait(false)).IsCompleted)
                {
                    return false;
                }

                await OnDataConsumed(stream, length).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is Http2StreamResetException || IsConnectionLoss(ex))
        {
            return false;
        }
    }

    private static void WriteLastChunk(PipeWriter output, Http2Stream stream)
    {
        if (!stream.HasTrailers || stream.ReceivedTrailers.Count == 0)
        {
            ChunkedEncoder.WriteLastChunk(output);
            return;
        }

        Write(output, "0\r\n"u8);
        Http2HeaderList trailers = stream.ReceivedTrailers;
        for (int i = 0; i < trailers.Count; i++)
        {
            WriteField(output, trailers.GetName(i), trailers.GetValue(i));
        }

        Write(output, "\r\n"u8);
    }

    private async ValueTask<bool> CopyLengthAsync(PipeReader input, Http2Stream stream, long length)
    {
        long remaining = length;
        while (remaining > 0)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return false;
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length > remaining)
            {
                buffer = buffer.Slice(0, remaining);
            }

            if (!buffer.IsEmpty)
            {
                remaining -= buffer.Length;
                bool sent = await SendDataAsync(stream, buffer, endStream: remaining == 0).ConfigureAwait(false);
                input.AdvanceTo(buffer.End);
                if (!sent)
                {
                    return false;
                }
            }
            else
            {
                input.AdvanceTo(buffer.End);
            }

            if (remaining > 0 && (result.IsCompleted || result.IsCanceled))
            {
                return false;
            }
        }

        return true;
    }

    private async ValueTask<(bool Complete, long Bytes)> CopyChunkedAsync(PipeReader input, Http2Stream stream)
    {
        var decoder = new ChunkedDecoder(Http1Limits.Default);
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            ChunkedDecodeStatus status;
            SequencePosition consumed;
            while (true)
            {
                status = DecodeOne(decoder, buffer, out ReadOnlySequence<byte> data, out consumed);
                if (status != ChunkedDecodeStatus.Data)
                {
                    break;
                }

                bytes += data.Length;
                bool sent = await SendDataAsync(stream, data, endStream: false).ConfigureAwait(false);
                buffer = buffer.Slice(consumed);
                if (!sent)
                {
                    input.AdvanceTo(consumed);
                    return (false, bytes);
                }
            }

            input.AdvanceTo(consumed, buffer.End);
            if (status == ChunkedDecodeStatus.Completed)
            {
                bool ended;
                if (decoder.Trailers.Length > 0)
                {
                    Http2HeaderList trailers = stream.Outgoing;
                    trailers.Reset();
                    for (int i = 0; i < decoder.Trailers.Length; i++)
                    {
                        if (!HopByHop.IsAlwaysHopByHop(decoder.GetTrailerName(i)))
                        {
                            trailers.AddLowercase(decoder.GetTrailerName(i), decoder.GetTrailerValue(i));
                        }
                    }

                    ended = await SendHeadersAsync(stream, trailers, endStream: true).ConfigureAwait(false);
                }
                else
                {
                    ended = await SendDataAsync(stream, ReadOnlySequence<byte>.Empty, endStream: true).ConfigureAwait(false);
                }

                return (ended, bytes);
            }

            if (status == ChunkedDecodeStatus.Invalid || result.IsCompleted || result.IsCanceled)
            {
                return (false, bytes);
            }
        }
    }

    private static ChunkedDecodeStatus DecodeOne(ChunkedDecoder decoder, in ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data, out SequencePosition consumed)
    {
        var reader = new SequenceReader<byte>(buffer);
        ChunkedDecodeStatus status = decoder.Decode(ref reader, out data);
        consumed = reader.Position;
        return status;
    }

    private async ValueTask<(bool Complete, long Bytes)> CopyUntilCloseAsync(PipeReader input, Http2Stream stream)
    {
        long bytes = 0;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ConnectionErrors.IsConnectionLoss(ex))
            {
                return (false, bytes);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bytes += buffer.Length;
            bool sent = await SendDataAsync(stream, buffer, endStream: result.IsCompleted).ConfigureAwait(false);
            input.AdvanceTo(buffer.End);
            if (!sent || result.IsCompleted || result.IsCanceled)
            {
                return (sent && result.IsCompleted, bytes);
            }
        }
    }
}
