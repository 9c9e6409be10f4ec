using System.Runtime.CompilerServices;
using Proxy.Async;
using Proxy.Http;
using Proxy.Routing;

namespace Proxy.Forwarding;

public sealed partial class Http1ServerConnection
{
    /// <summary>
    /// Answers with a route's redirect or direct response, written straight into the connection's output (the Location
    /// too, from the request's Host and target), and records it with no flag. Returns true when the connection can carry
    /// another request.
    /// </summary>
    [AsyncMethodBuilder(typeof(PooledValueTaskMethodBuilder<>))]
    internal async ValueTask<bool> AnswerLocallyAsync(Http1Exchange exchange, LocalResponse response, bool close)
    {
        close |= _draining;
        int sent = WriteLocalResponse(exchange, response, close);
        Record(exchange.Metrics, response.Status, ResponseFlag.None, exchange.Started, _request.HeadLength, sent, exchange.Route?.Name, null, null);
        var flush = await _output.FlushAsync().ConfigureAwait(false);
        return !close && !flush.IsCompleted;
    }

    /// <summary>
    /// RFC 9112 section 4 (status line) and 6.3 (framing by content-length): status line, location, content-type,
    /// content-length (not for 204 and 304), connection, then the body, which a HEAD request does not get (RFC 9110
    /// section 9.3.2; its content-length is still the body's).
    /// </summary>
    private int WriteLocalResponse(Http1Exchange exchange, LocalResponse response, bool close)
    {
        ReadOnlySpan<byte> host = exchange.Host;
        ReadOnlySpan<byte> target = exchange.Target;
        ReadOnlySpan<byte> reason = ReasonPhrases.Get(response.Status);
        ReadOnlySpan<byte> contentType = response.ContentType.Span;
        ReadOnlySpan<byte> body = _request.Method == RequestMethod.Head || !response.HasContentLength ? default : response.Body.Span;
        RedirectAction? redirect = response.Redirect;
        ReadOnlySpan<byte> additions = exchange.PrepareLocalAnswer() ? exchange.ResponseHeadersToAdd.Http1Lines : default;

        // Every fixed part (status line, names, separators, "keep-alive") fits in 128 bytes.
        int bound = 128 + reason.Length + contentType.Length + response.ContentLength.Length + body.Length + additions.Length
            + (redirect?.MaxLocationLength(host.Length, target.Length) ?? 0);
        Span<byte> span = _output.GetSpan(bound);
        int n = 0;
        Append(span, ref n, "HTTP/1.1 "u8);
        int status = response.Status; // 200-599: three digits
        span[n++] = (byte)('0' + (status / 100));
        span[n++] = (byte)('0' + (status / 10 % 10));
        span[n++] = (byte)('0' + (status % 10));
        span[n++] = (byte)' ';
        Append(span, ref n, reason);
        Append(span, ref n, "\r\n"u8);
        if (redirect is not null)
        {
            Append(span, ref n, "location: "u8);
            n += redirect.WriteLocation(span[n..], host, target, exchange.DownstreamTls);
            Append(span, ref n, "\r\n"u8);
        }

        if (!contentType.IsEmpty)
        {
            Append(span, ref n, "content-type: "u8);
            Append(span, ref n, contentType);
            Append(span, ref n, "\r\n"u8);
        }

        if (response.HasContentLength)
        {
            Append(span, ref n, "content-length: "u8);
            Append(span, ref n, response.ContentLength.Span);
            Append(span, ref n, "\r\n"u8);
        }

        Append(span, ref n, additions);
        Append(span, ref n, close ? "connection: close\r\n\r\n"u8 : "connection: keep-alive\r\n\r\n"u8);
        Append(span, ref n, body);
        _output.Advance(n);
        return n;
    }

    private static void Append(Span<byte> destination, ref int n, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination[n..]);
        n += bytes.Length;
    }
}
