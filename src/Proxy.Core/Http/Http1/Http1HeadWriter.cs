using System.Buffers;
using System.Diagnostics;

namespace Proxy.Http.Http1;

/// <summary>
/// Serializes forwarded heads (RFC 9112 3 and 4): a normalised start line, then the original
/// field lines byte-for-byte minus the hop-by-hop ones (RFC 9110 7.6.1) and the framing fields,
/// then the fields the proxy sets. Everything is written with one GetSpan and one Advance.
/// </summary>
public static class Http1HeadWriter
{
    // Room for field names, separators, CRLFs, the version and a 19-digit length.
    private const int FixedOverhead = 320;

    /// <summary>
    /// Writes the request for the upstream: "method SP target SP HTTP/1.1". An absolute-form target
    /// becomes origin-form and Host is rewritten from it (RFC 9112 3.2.2), since the upstream is an
    /// origin server, not a proxy.
    /// </summary>
    public static void WriteRequest(IBufferWriter<byte> output, Http1RequestHead head, scoped in Http1ForwardOptions options)
    {
        bool absolute = head.TargetForm == RequestTargetForm.Absolute;
        ReadOnlySpan<byte> host = !options.Host.IsEmpty ? options.Host : absolute ? head.Authority : default;
        int bound = head.HeadLength + FixedOverhead + OptionsLength(options) + host.Length + options.Target.Length;
        var w = new SpanWriter(output.GetSpan(bound));

        w.Write(head.MethodBytes);
        w.WriteByte((byte)' ');
        if (!options.Target.IsEmpty)
        {
            w.Write(options.Target);
        }
        else if (absolute)
        {
            ReadOnlySpan<byte> pathAndQuery = head.PathAndQuery;
            if (pathAndQuery.IsEmpty || pathAndQuery[0] != (byte)'/') w.WriteByte((byte)'/');
            w.Write(pathAndQuery);
        }
        else
        {
            w.Write(head.Target);
        }

        w.Write(" HTTP/1.1\r\n"u8);
        WriteFields(ref w, head, rewriteHost: !host.IsEmpty, options);
        if (!host.IsEmpty) w.WriteField(HeaderNames.Host, host);
        WriteProxyFields(ref w, head, options);
        output.Advance(w.Position);
    }

    /// <summary>Writes the response for the downstream: "HTTP/1.1 SP code SP reason" and the filtered fields.</summary>
    public static void WriteResponse(IBufferWriter<byte> output, Http1ResponseHead head, scoped in Http1ForwardOptions options)
    {
        int bound = head.HeadLength + FixedOverhead + OptionsLength(options);
        var w = new SpanWriter(output.GetSpan(bound));

        w.Write("HTTP/1.1 "u8);
        WriteStatusCode(ref w, head.StatusCode);
        w.WriteByte((byte)' ');
        w.Write(head.ReasonPhrase);
        w.WriteCrlf();
        WriteFields(ref w, head, rewriteHost: false, options);
        WriteProxyFields(ref w, head, options);
        output.Advance(w.Position);
    }

    /// <summary>
    /// Writes a response the proxy generates itself (400, 404, 413, 414, 431, 502, 503, 504...):
    /// status line, content-type, "x-proxy-error: flag", content-length, connection: close, then the
    /// body (the reason phrase when <paramref name="body"/> is empty).
    /// </summary>
    /// <param name="headOnly">
    /// The answer to a HEAD request: the content-length of the body a GET would get, and no body (RFC 9110 9.3.2), so a
    /// kept-alive connection's next response is not read from stray bytes.
    /// </param>
    /// <param name="extraLines">Field lines to add (each "name: value\r\n"): the route's response additions.</param>
    public static int WriteErrorResponse(IBufferWriter<byte> output, int statusCode, ReadOnlySpan<byte> flag, ReadOnlySpan<byte> body = default, bool close = true, bool headOnly = false,
        ReadOnlySpan<byte> extraLines = default)
    {
        ReadOnlySpan<byte> reason = ReasonPhrases.Get(statusCode);
        bool defaultBody = body.IsEmpty;
        if (defaultBody) body = reason;
        int bodyLength = body.Length + (defaultBody ? 1 : 0);

        var w = new SpanWriter(output.GetSpan(FixedOverhead + reason.Length + flag.Length + bodyLength + extraLines.Length));
        w.Write("HTTP/1.1 "u8);
        WriteStatusCode(ref w, statusCode);
        w.WriteByte((byte)' ');
        w.Write(reason);
        w.WriteCrlf();
        w.WriteField(HeaderNames.ContentType, "text/plain"u8);
        if (!flag.IsEmpty) w.WriteField(HeaderNames.XProxyError, flag);
        w.Write(HeaderNames.ContentLength);
        w.Write(": "u8);
        w.WriteInt64(bodyLength);
        w.WriteCrlf();
        w.WriteField(HeaderNames.Connection, close ? "close"u8 : "keep-alive"u8);
        w.Write(extraLines);
        w.WriteCrlf();
        if (!headOnly)
        {
            w.Write(body);
            if (defaultBody) w.WriteByte((byte)'\n');
        }

        output.Advance(w.Position);
        return w.Position;
    }

    /// <summary>
    /// Copies the kept field lines as runs of original bytes. Dropped: hop-by-hop fields (always
    /// listed or named by Connection; Upgrade only when not relaying an upgrade), the framing fields
    /// the proxy re-derives, Host when rewritten, and the X-Forwarded-* fields the proxy replaces.
    /// </summary>
    private static void WriteFields(ref SpanWriter w, Http1Head head, bool rewriteHost, scoped in Http1ForwardOptions options)
    {
        ReadOnlySpan<byte> bytes = head.HeadBytes;
        ReadOnlySpan<Http1HeaderField> fields = head.Fields;
        int runStart = -1;
        int runEnd = -1;
        for (int i = 0; i < fields.Length; i++)
        {
            ref readonly Http1HeaderField f = ref fields[i];
            if (IsDropped(f, rewriteHost, options) || (options.Removed is { } removed && removed.Contains(bytes.Slice(f.NameStart, f.NameLength))))
            {
                continue;
            }

            // Lines are adjacent in the head buffer, so consecutive kept lines are one copy.
            if (f.NameStart != runEnd)
            {
                if (runStart >= 0) w.Write(bytes[runStart..runEnd]);
                runStart = f.NameStart;
            }

            runEnd = f.NameStart + f.LineLength;
        }

        if (runStart >= 0) w.Write(bytes[runStart..runEnd]);
    }

    private static bool IsDropped(in Http1HeaderField f, bool rewriteHost, scoped in Http1ForwardOptions options)
    {
        if (f.IsHopByHop) return !(options.ForwardUpgrade && f.Kind == KnownHeader.Upgrade);
        return f.Kind switch
        {
            KnownHeader.ContentLength => true,
            KnownHeader.Host => rewriteHost,
            KnownHeader.XForwardedFor => !options.ForwardedFor.IsEmpty,
            KnownHeader.XForwardedProto => !options.ForwardedProto.IsEmpty,
            KnownHeader.XForwardedHost => !options.ForwardedHost.IsEmpty,
            KnownHeader.TraceParent or KnownHeader.B3 => options.ReplaceTraceContext,
            _ => false,
        };
    }

    /// <summary>Appends the proxy's own fields and the empty line that ends the head.</summary>
    private static void WriteProxyFields(ref SpanWriter w, Http1Head head, scoped in Http1ForwardOptions options)
    {
        if (!options.ForwardedFor.IsEmpty) WriteForwardedFor(ref w, head, options.ForwardedFor);
        if (!options.ForwardedProto.IsEmpty) w.WriteField(HeaderNames.XForwardedProto, options.ForwardedProto);
        if (!options.ForwardedHost.IsEmpty) w.WriteField(HeaderNames.XForwardedHost, options.ForwardedHost);
        if (!options.RequestId.IsEmpty && !head.Contains(KnownHeader.XRequestId)) w.WriteField(HeaderNames.XRequestId, options.RequestId);
        if (!options.Via.IsEmpty) w.WriteField(HeaderNames.Via, options.Via);

        switch (options.Framing)
        {
            case Http1BodyFraming.ContentLength:
                Debug.Assert(options.ContentLength >= 0, "Content-Length framing needs a length.");
                w.Write(HeaderNames.ContentLength);
                w.Write(": "u8);
                w.WriteInt64(options.ContentLength);
                w.WriteCrlf();
                break;
            case Http1BodyFraming.Chunked:
                w.WriteField(HeaderNames.TransferEncoding, "chunked"u8);
                break;
        }

        if (!options.Connection.IsEmpty) w.WriteField(HeaderNames.Connection, options.Connection);
        w.Write(options.ExtraLines);
        w.Write(options.AddedLines);
        w.WriteCrlf();
    }

    /// <summary>One X-Forwarded-For line: the values already present, then the client's address.</summary>
    private static void WriteForwardedFor(ref SpanWriter w, Http1Head head, ReadOnlySpan<byte> client)
    {
        w.Write(HeaderNames.XForwardedFor);
        w.Write(": "u8);
        ReadOnlySpan<Http1HeaderField> fields = head.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            if (fields[i].Kind != KnownHeader.XForwardedFor || fields[i].IsHopByHop || fields[i].ValueLength == 0) continue;
            w.Write(head.GetValue(i));
            w.Write(", "u8);
        }

        w.Write(client);
        w.WriteCrlf();
    }

    private static void WriteStatusCode(ref SpanWriter w, int statusCode)
    {
        Debug.Assert(statusCode is >= 100 and <= 999, "A status code has three digits.");
        w.WriteByte((byte)('0' + (statusCode / 100)));
        w.WriteByte((byte)('0' + (statusCode / 10 % 10)));
        w.WriteByte((byte)('0' + (statusCode % 10)));
    }

    private static int OptionsLength(scoped in Http1ForwardOptions o) =>
        o.Connection.Length + o.ForwardedFor.Length + o.ForwardedProto.Length + o.ForwardedHost.Length
        + o.RequestId.Length + o.Via.Length + o.ExtraLines.Length + o.AddedLines.Length;
}
