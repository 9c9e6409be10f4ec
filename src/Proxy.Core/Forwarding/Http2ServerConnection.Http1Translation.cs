using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using Proxy.Async;
using Proxy.Headers;
using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.Http.Http2;
using Proxy.Observability;
using Proxy.Resilience;
using Proxy.Runtime;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Forwarding;

public sealed partial class Http2ServerConnection
{
    /// <summary>
    /// Writes a request body that arrived whole (END_STREAM received), as it is or as one chunk and the last chunk
    /// with the trailers, without consuming it from the stream: a retry writes it again.
    /// </summary>
    private static void WriteBodyInHand(PipeWriter output, Http2Stream stream, bool chunked)
    {
        // After END_STREAM the body pipe is complete and stays so (a later reset does not fail it, see
        // Http2Stream.Abort): the read returns at once.
        if (!stream.Input.TryRead(out ReadResult result))
        {
            return;
        }

        ReadOnlySequence<byte> body = result.Buffer;
        if (chunked)
        {
            ChunkedEncoder.WriteChunk(output, body);
            WriteLastChunk(output, stream);
        }
        else
        {
            foreach (ReadOnlyMemory<byte> segment in body)
            {
                output.Write(segment.Span);
            }
        }

        stream.Input.AdvanceTo(body.Start, body.End);
    }
    /// <summary>
    /// "METHOD path HTTP/1.1", Host from :authority, the regular fields (cookies joined, 8.2.3; x-request-id among
    /// them, see <see cref="AddRequestIdIfMissing"/>), framing, proxy fields (X-Forwarded-Host from the host), the
    /// trace context of the proxy's span in place of the client's (traceparent, and b3 when the client spoke B3), as
    /// the HTTP/1.1 forwarder writes, and <paramref name="connection"/> when given (a mirrored copy's "close").
    /// </summary>
    private void WriteHttp1RequestHead(IBufferWriter<byte> output, Http2HeaderList request, Http2StreamExchange exchange, bool hasBody, long contentLength, bool chunked, ReadOnlySpan<byte> connection = default, Endpoint? endpoint = null)
    {
        Write(output, request.Method);
        Write(output, " "u8);
        Write(output, exchange.UpstreamTarget.TargetOr(request.Path));
        Write(output, " HTTP/1.1\r\nhost: "u8);
        ReadOnlySpan<byte> authority = request.Authority;
        if (authority.IsEmpty)
        {
            request.TryGetValue("host"u8, out authority);
        }

        Write(output, exchange.UpstreamTarget.HostOr(authority, endpoint));
        Write(output, "\r\n"u8);
        ref readonly RequestTrace trace = ref exchange.Trace;
        bool cookieWritten = false;
        bool replaceTrace = ReplacesTraceContext;
        FieldNameSet? removed = exchange.RequestFieldsRemoved;
        for (int i = 0; i < request.Count; i++)
        {
            ReadOnlySpan<byte> name = request.GetName(i);
            KnownHeader kind = KnownHeaders.Classify(name);
            if (kind is KnownHeader.Host or KnownHeader.TE or KnownHeader.ContentLength || IsReplacedRequestField(name, hasHost: !authority.IsEmpty, replaceTrace)
                || (removed is not null && removed.Contains(name)))
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

        // The client's whole chain, every field in order, then its address (Http2ForwardedFields for HTTP/2 upstreams).
        Write(output, "x-forwarded-for: "u8);
        for (int i = 0; i < request.Count; i++)
        {
            if (Http2ForwardedFields.IsClientHop(request, i))
            {
                Write(output, request.GetValue(i));
                Write(output, ", "u8);
            }
        }

        Write(output, _clientAddressText);
        Write(output, "\r\n"u8);
        WriteField(output, "x-forwarded-proto"u8, ForwardedProto);
        if (!authority.IsEmpty)
        {
            WriteField(output, "x-forwarded-host"u8, authority);
        }

        if (!connection.IsEmpty)
        {
            WriteField(output, "connection"u8, connection);
        }

        if (replaceTrace)
        {
            Write(output, "traceparent: "u8);
            Span<byte> value = stackalloc byte[RequestTrace.B3Length];
            Write(output, value[..trace.FormatTraceParent(value)]);
            if (trace.FromB3)
            {
                Write(output, "\r\nb3: "u8);
                Write(output, value[..trace.FormatB3(value)]);
            }

            Write(output, "\r\n"u8);
        }

        Write(output, exchange.RequestHeadersToAdd.Http1Lines);
        Write(output, "\r\n"u8);
    }

    private static void WriteJoinedCookies(IBufferWriter<byte> output, Http2HeaderList request)
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
    /// <param name="removed">The fields the route removes or replaces; null for none.</param>
    private static void StageResponseHead(Http2HeaderList headers, Http1ResponseHead response, bool keepContentLength, FieldNameSet? removed)
    {
        headers.AddStatus(response.StatusCode);
        ReadOnlySpan<Http1HeaderField> fields = response.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            Http1HeaderField field = fields[i];
            if (field.IsHopByHop || field.Kind == KnownHeader.TransferEncoding || (field.Kind == KnownHeader.ContentLength && !keepContentLength)
                || (removed is not null && removed.Contains(response.GetName(i))))
            {
                continue;
            }

            headers.AddLowercase(response.GetName(i), response.GetValue(i));
        }
    }
}
