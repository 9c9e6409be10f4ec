using System.Buffers;
using System.Text;

namespace Proxy.Observability.AccessLog;

/// <summary>
/// An Envoy-style access-log format string (<c>[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%
/// %PROTOCOL%" %RESPONSE_CODE% ...</c>), compiled once when the configuration loads into literal and operator
/// segments, then written per entry straight into the writer's buffer with no allocation. Operators whose value is
/// absent write <c>-</c>, as Envoy does. Unknown operators, and request headers the access log does not record, are
/// refused by <see cref="TryCompile"/> with a sentence saying what is supported.
/// </summary>
public sealed class AccessLogFormat
{
    /// <summary>Every operator a format may use, for error messages and the docs.</summary>
    public const string Supported =
        "%START_TIME%, %DURATION%, %RESPONSE_CODE%, %RESPONSE_FLAGS%, %BYTES_RECEIVED%, %BYTES_SENT%, %PROTOCOL%, %UPSTREAM_HOST%, " +
        "%UPSTREAM_CLUSTER%, %ROUTE_NAME%, %UPSTREAM_REQUEST_ATTEMPT_COUNT%, %DOWNSTREAM_PEER_URI_SAN%, %UPSTREAM_PEER_URI_SAN%, %TRACE_ID% and " +
        "%REQ(H)% or %REQ(H?ALT):N% for the headers :method, :path, x-envoy-original-path, :authority, host and x-request-id";

    private static readonly (string Name, AccessLogOperator Operator)[] Operators =
    [
        ("START_TIME", AccessLogOperator.StartTime),
        ("DURATION", AccessLogOperator.Duration),
        ("RESPONSE_CODE", AccessLogOperator.ResponseCode),
        ("RESPONSE_FLAGS", AccessLogOperator.ResponseFlags),
        ("BYTES_RECEIVED", AccessLogOperator.BytesReceived),
        ("BYTES_SENT", AccessLogOperator.BytesSent),
        ("PROTOCOL", AccessLogOperator.Protocol),
        ("UPSTREAM_HOST", AccessLogOperator.UpstreamHost),
        ("UPSTREAM_CLUSTER", AccessLogOperator.UpstreamCluster),
        ("ROUTE_NAME", AccessLogOperator.RouteName),
        ("UPSTREAM_REQUEST_ATTEMPT_COUNT", AccessLogOperator.Attempts),
        ("DOWNSTREAM_PEER_URI_SAN", AccessLogOperator.PeerUriSan),
        ("UPSTREAM_PEER_URI_SAN", AccessLogOperator.UpstreamPeerUriSan),
        ("TRACE_ID", AccessLogOperator.TraceId),
    ];

    private readonly AccessLogSegment[] _segments;

    private AccessLogFormat(string text, AccessLogSegment[] segments)
    {
        Text = text;
        _segments = segments;
    }

    /// <summary>The format as configured.</summary>
    public string Text { get; }

    /// <summary>The compiled parts, in order.</summary>
    public IReadOnlyList<AccessLogSegment> Segments => _segments;

    /// <summary>Compiles <paramref name="text"/>; on failure returns false with a sentence naming the problem.</summary>
    public static bool TryCompile(string text, out AccessLogFormat? format, out string? error)
    {
        format = null;
        var segments = new List<AccessLogSegment>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '%')
            {
                literal.Append(c);
                i++;
                continue;
            }

            var end = text.IndexOf('%', i + 1);
            if (end < 0)
            {
                error = $"the '%' at position {i} starts a command operator that is never closed; close it with '%' (e.g. %START_TIME%)";
                return false;
            }

            var name = text[(i + 1)..end];
            if (!TryOperator(name, out var segment, out error))
            {
                return false;
            }

            AddLiteral(segments, literal);
            segments.Add(segment);
            i = end + 1;
        }

        // One entry per line: the newline is implied when the format does not end with one.
        if (literal.Length == 0 || literal[^1] != '\n')
        {
            literal.Append('\n');
        }

        AddLiteral(segments, literal);
        format = new AccessLogFormat(text, [.. segments]);
        error = null;
        return true;
    }

    /// <summary>Writes <paramref name="entry"/> as one line (with its newline) into <paramref name="output"/>.</summary>
    public void Write(IBufferWriter<byte> output, AccessLogEntry entry)
    {
        foreach (ref readonly var segment in _segments.AsSpan())
        {
            if (segment.Operator == AccessLogOperator.Literal)
            {
                output.Write(segment.Literal);
                continue;
            }

            if (!AccessLogValues.TryWrite(output, entry, segment.Operator, segment.MaxLength)
                && !(segment.Fallback is { } fallback && AccessLogValues.TryWrite(output, entry, fallback, segment.MaxLength)))
            {
                output.Write("-"u8);
            }
        }
    }

    private static bool TryOperator(string name, out AccessLogSegment segment, out string? error)
    {
        segment = default;
        error = null;
        if (name.StartsWith("REQ(", StringComparison.Ordinal))
        {
            return TryRequestHeader(name, out segment, out error);
        }

        if (name.StartsWith("START_TIME(", StringComparison.Ordinal))
        {
            error = $"%{name}%: a custom START_TIME format is not supported; use %START_TIME% (UTC, ISO 8601 with milliseconds)";
            return false;
        }

        foreach (var (known, op) in Operators)
        {
            if (name == known)
            {
                segment = new AccessLogSegment(op, null);
                return true;
            }
        }

        error = $"%{name}% is not a command operator the proxy supports; use {Supported}";
        return false;
    }

    // REQ(X?Y):Z, Envoy's request header operator: X, else Y when X is absent, cut to Z bytes.
    private static bool TryRequestHeader(string name, out AccessLogSegment segment, out string? error)
    {
        segment = default;
        var close = name.IndexOf(')');
        var rest = close < 0 ? "" : name[(close + 1)..];
        var maxLength = 0;
        if (close < 0 || (rest.Length > 0 && !(rest[0] == ':' && int.TryParse(rest.AsSpan(1), out maxLength) && maxLength > 0)))
        {
            error = $"%{name}% is not a valid request header operator; write %REQ(HEADER)%, %REQ(HEADER?ALTERNATIVE)% or %REQ(HEADER):LENGTH%";
            return false;
        }

        var headers = name[4..close].Split('?');
        if (headers.Length > 2 || !TryHeader(headers[0], out var first) || (headers.Length == 2 && !TryHeader(headers[1], out _)))
        {
            var bad = headers.Length > 2 ? name[4..close] : !TryHeader(headers[0], out _) ? headers[0] : headers[1];
            error = headers.Length > 2
                ? $"%{name}%: at most one alternative header (HEADER?ALTERNATIVE)"
                : $"%{name}%: the access log does not record the request header {bad}; it records :method, :path (x-envoy-original-path), :authority (host) and x-request-id";
            return false;
        }

        AccessLogOperator? fallback = headers.Length == 2 && TryHeader(headers[1], out var second) ? second : null;
        segment = new AccessLogSegment(first, null, fallback, maxLength);
        error = null;
        return true;
    }

    private static bool TryHeader(string header, out AccessLogOperator op)
    {
        op = header.ToLowerInvariant() switch
        {
            ":method" => AccessLogOperator.Method,
            ":path" or "x-envoy-original-path" => AccessLogOperator.Path,
            ":authority" or "host" => AccessLogOperator.Authority,
            "x-request-id" => AccessLogOperator.RequestId,
            _ => AccessLogOperator.Literal,
        };
        return op != AccessLogOperator.Literal;
    }

    private static void AddLiteral(List<AccessLogSegment> segments, StringBuilder literal)
    {
        if (literal.Length > 0)
        {
            segments.Add(new AccessLogSegment(AccessLogOperator.Literal, Encoding.UTF8.GetBytes(literal.ToString())));
            literal.Clear();
        }
    }
}
