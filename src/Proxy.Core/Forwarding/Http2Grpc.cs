using Proxy.Http.Http2;
using Proxy.Resilience;

namespace Proxy.Forwarding;

/// <summary>gRPC details the HTTP/2 forwarder needs: recognising a call, its deadline, and the status of proxy errors.</summary>
public static class Http2Grpc
{
    /// <summary>grpc-status UNAVAILABLE: no route, no endpoint, connect failure, upstream reset.</summary>
    public const int StatusUnavailable = 14;

    /// <summary>grpc-status DEADLINE_EXCEEDED: the deadline (grpc-timeout or the route timeout) passed.</summary>
    public const int StatusDeadlineExceeded = 4;

    /// <summary>True when content-type is application/grpc or application/grpc+... (gRPC over HTTP/2).</summary>
    public static bool IsGrpc(Http2HeaderList headers) =>
        headers.TryGetValue("content-type"u8, out ReadOnlySpan<byte> type) && type.StartsWith("application/grpc"u8);

    /// <summary>
    /// Parses grpc-timeout ("1*8DIGIT unit", unit H M S m u n). Returns false when absent or malformed.
    /// </summary>
    public static bool TryGetTimeout(Http2HeaderList headers, out TimeSpan timeout)
    {
        timeout = default;
        if (!headers.TryGetValue("grpc-timeout"u8, out ReadOnlySpan<byte> value) || value.Length is < 2 or > 9)
        {
            return false;
        }

        long amount = 0;
        foreach (byte digit in value[..^1])
        {
            if ((uint)(digit - '0') > 9)
            {
                return false;
            }

            amount = (amount * 10) + (digit - '0');
        }

        timeout = value[^1] switch
        {
            (byte)'H' => TimeSpan.FromHours(amount),
            (byte)'M' => TimeSpan.FromMinutes(amount),
            (byte)'S' => TimeSpan.FromSeconds(amount),
            (byte)'m' => TimeSpan.FromMilliseconds(amount),
            (byte)'u' => TimeSpan.FromTicks(amount * 10),
            (byte)'n' => TimeSpan.FromTicks(amount / 100),
            _ => TimeSpan.MinValue,
        };
        return timeout != TimeSpan.MinValue;
    }

    /// <summary>
    /// The grpc-status a response carried in <paramref name="fields"/> (its trailers, or the head of a trailers-only
    /// response; gRPC over HTTP/2, "Responses"), -1 when it has none or it is not a number.
    /// </summary>
    public static int StatusOf(Http2HeaderList fields) =>
        fields.TryGetValue("grpc-status"u8, out ReadOnlySpan<byte> value) ? RetryPolicy.ParseGrpcStatus(value) : AttemptOutcome.NoGrpcStatus;

    /// <summary>
    /// The grpc-status of an answer the proxy makes with HTTP <paramref name="status"/> and <paramref name="flag"/>, as
    /// Envoy's local replies give it: 4 DEADLINE_EXCEEDED for timeouts; 7 PERMISSION_DENIED for an authorization
    /// denial (HTTP 403, as Envoy's RBAC filter answers a gRPC call); for an injected fault, the status its HTTP
    /// code maps to (<see cref="FromHttpStatus"/>, as Envoy's fault filter with an <c>http_status</c> abort); 14
    /// UNAVAILABLE for the rest, rate limiting included (429 maps to UNAVAILABLE in gRPC's HTTP mapping, and Envoy's
    /// rate limit filters answer so unless <c>rate_limited_as_resource_exhausted</c> asks for RESOURCE_EXHAUSTED).
    /// </summary>
    public static ReadOnlySpan<byte> StatusFor(ResponseFlag flag, int status) => flag switch
    {
        ResponseFlag.UpstreamTimeout => "4"u8,
        ResponseFlag.AccessDenied => "7"u8,
        ResponseFlag.FaultInjected => FromHttpStatus(status),
        _ => "14"u8,
    };

    /// <summary>
    /// gRPC's mapping of an HTTP status to a grpc-status (grpc/doc/http-grpc-status-mapping.md, Envoy's
    /// Grpc::Utility::httpToGrpcStatus): 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404 UNIMPLEMENTED,
    /// 429, 502, 503 and 504 UNAVAILABLE, anything else UNKNOWN.
    /// </summary>
    public static ReadOnlySpan<byte> FromHttpStatus(int status) => status switch
    {
        400 => "13"u8,
        401 => "16"u8,
        403 => "7"u8,
        404 => "12"u8,
        429 or 502 or 503 or 504 => "14"u8,
        _ => "2"u8,
    };
}
