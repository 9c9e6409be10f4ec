namespace Proxy.Http.Http1;

/// <summary>
/// What the proxy changes when it forwards a head: the framing it re-derives, its Connection
/// options, and the fields it adds. All values are spans the caller owns (often cached bytes),
/// so forwarding allocates nothing. Empty spans mean "do not write".
/// </summary>
public ref struct Http1ForwardOptions
{
    /// <summary>How the forwarded body is framed: Content-Length or chunked get their field; other values write none.</summary>
    public Http1BodyFraming Framing;

    /// <summary>The length written when <see cref="Framing"/> is <see cref="Http1BodyFraming.ContentLength"/>.</summary>
    public long ContentLength;

    /// <summary>Value of the Connection field to write on this hop ("close", "keep-alive", "upgrade").</summary>
    public ReadOnlySpan<byte> Connection;

    /// <summary>Forward the Upgrade field(s) because the proxy is relaying this upgrade; set Connection to "upgrade" too.</summary>
    public bool ForwardUpgrade;

    /// <summary>The client address to append to X-Forwarded-For (existing values are kept in front, in one line).</summary>
    public ReadOnlySpan<byte> ForwardedFor;

    /// <summary>Replaces any X-Forwarded-Proto ("http" or "https").</summary>
    public ReadOnlySpan<byte> ForwardedProto;

    /// <summary>Replaces any X-Forwarded-Host (usually the original Host).</summary>
    public ReadOnlySpan<byte> ForwardedHost;

    /// <summary>Written as x-request-id only when the message has none.</summary>
    public ReadOnlySpan<byte> RequestId;

    /// <summary>A Via entry to add, e.g. "1.1 proxy" (RFC 9110 7.6.3); existing Via lines are kept.</summary>
    public ReadOnlySpan<byte> Via;

    /// <summary>Complete field lines ("name: value" CRLF each) appended verbatim.</summary>
    public ReadOnlySpan<byte> ExtraLines;

    /// <summary>More complete field lines appended verbatim after <see cref="ExtraLines"/> (the filter chain's additions).</summary>
    public ReadOnlySpan<byte> AddedLines;

    /// <summary>Drop the incoming traceparent and B3 fields: the caller writes its own in <see cref="ExtraLines"/>.</summary>
    public bool ReplaceTraceContext;

    /// <summary>The request target to send in place of the client's (a route's path rewrite); empty to keep it.</summary>
    public ReadOnlySpan<byte> Target;

    /// <summary>The Host to send in place of the client's (a route's host rewrite); empty to keep it.</summary>
    public ReadOnlySpan<byte> Host;

    /// <summary>Names of fields left out (a route's removals and replacements); null for none.</summary>
    public Headers.FieldNameSet? Removed;
}
