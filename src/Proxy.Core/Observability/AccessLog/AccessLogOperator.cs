namespace Proxy.Observability.AccessLog;

/// <summary>What one part of a compiled access-log format writes: literal text or one of Envoy's command operators.</summary>
public enum AccessLogOperator : byte
{
    /// <summary>Text copied as is.</summary>
    Literal,

    /// <summary><c>%START_TIME%</c>: UTC, ISO 8601 with milliseconds.</summary>
    StartTime,

    /// <summary><c>%DURATION%</c>: milliseconds from the first byte of the request to the last of the response.</summary>
    Duration,

    /// <summary><c>%RESPONSE_CODE%</c>.</summary>
    ResponseCode,

    /// <summary><c>%RESPONSE_FLAGS%</c>.</summary>
    ResponseFlags,

    /// <summary><c>%BYTES_RECEIVED%</c>.</summary>
    BytesReceived,

    /// <summary><c>%BYTES_SENT%</c>.</summary>
    BytesSent,

    /// <summary><c>%PROTOCOL%</c>.</summary>
    Protocol,

    /// <summary><c>%UPSTREAM_HOST%</c>.</summary>
    UpstreamHost,

    /// <summary><c>%UPSTREAM_CLUSTER%</c>.</summary>
    UpstreamCluster,

    /// <summary><c>%ROUTE_NAME%</c>.</summary>
    RouteName,

    /// <summary><c>%UPSTREAM_REQUEST_ATTEMPT_COUNT%</c>.</summary>
    Attempts,

    /// <summary><c>%DOWNSTREAM_PEER_URI_SAN%</c>: the client's SPIFFE ID.</summary>
    PeerUriSan,

    /// <summary><c>%UPSTREAM_PEER_URI_SAN%</c>: the server's SPIFFE ID (a client sidecar's requests).</summary>
    UpstreamPeerUriSan,

    /// <summary><c>%TRACE_ID%</c>.</summary>
    TraceId,

    /// <summary><c>%REQ(:METHOD)%</c>.</summary>
    Method,

    /// <summary><c>%REQ(:PATH)%</c>, <c>%REQ(X-ENVOY-ORIGINAL-PATH)%</c>.</summary>
    Path,

    /// <summary><c>%REQ(:AUTHORITY)%</c>, <c>%REQ(HOST)%</c>.</summary>
    Authority,

    /// <summary><c>%REQ(X-REQUEST-ID)%</c>.</summary>
    RequestId,
}
