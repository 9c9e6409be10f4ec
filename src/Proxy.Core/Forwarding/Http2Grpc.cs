using Proxy.Http.Http2;

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
    /// The grpc-status for a proxy error flag, as gRPC maps the HTTP status the proxy would have sent
    /// (grpc/doc/http-grpc-status-mapping.md): 403 is 7 PERMISSION_DENIED; timeouts are 4 DEADLINE_EXCEEDED; the rest 14 UNAVAILABLE.
    /// </summary>
    public static ReadOnlySpan<byte> StatusFor(ResponseFlag flag) => flag switch
    {
        ResponseFlag.UpstreamTimeout => "4"u8,
        ResponseFlag.AccessDenied => "7"u8,
        _ => "14"u8,
    };
}
