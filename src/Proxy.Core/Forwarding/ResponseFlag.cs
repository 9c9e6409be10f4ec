namespace Proxy.Forwarding;

/// <summary>
/// Why the proxy, not the upstream, produced or changed a response. Each has Envoy's short code
/// (the <c>response_flags</c> metric label and access-log field) and a long name (the
/// <c>x-proxy-error</c> response header).
/// </summary>
public enum ResponseFlag : byte
{
    None,
    NoRoute,
    NoHealthyEndpoint,
    UpstreamConnectFailure,
    UpstreamTimeout,
    UpstreamReset,
    BadUpstreamResponse,
    DownstreamProtocolError,
    DownstreamDisconnect,
    RequestTooLarge,
    RequestHeaderTimeout,
    RateLimited,
    FaultInjected,
    UpstreamOverflow,
    AccessDenied,
}

/// <summary>Names of <see cref="ResponseFlag"/> values.</summary>
public static class ResponseFlags
{
    public const int Count = 15;

    /// <summary>Envoy-compatible short code.</summary>
    public static string ShortCode(this ResponseFlag flag) => flag switch
    {
        ResponseFlag.None => "-",
        ResponseFlag.NoRoute => "NR",
        ResponseFlag.NoHealthyEndpoint => "UH",
        ResponseFlag.UpstreamConnectFailure => "UF",
        ResponseFlag.UpstreamTimeout => "UT",
        ResponseFlag.UpstreamReset => "UC",
        ResponseFlag.BadUpstreamResponse => "UPE",
        ResponseFlag.DownstreamProtocolError => "DPE",
        ResponseFlag.DownstreamDisconnect => "DC",
        ResponseFlag.RequestTooLarge => "RTL",
        ResponseFlag.RequestHeaderTimeout => "RHT",
        ResponseFlag.RateLimited => "RL",
        ResponseFlag.FaultInjected => "FI",
        ResponseFlag.UpstreamOverflow => "UO",
        _ => "RBAC",
    };

    /// <summary>The value of the <c>x-proxy-error</c> header.</summary>
    public static ReadOnlySpan<byte> HeaderValue(this ResponseFlag flag) => flag switch
    {
        ResponseFlag.NoRoute => "no-route"u8,
        ResponseFlag.NoHealthyEndpoint => "no-healthy-endpoint"u8,
        ResponseFlag.UpstreamConnectFailure => "upstream-connect-failure"u8,
        ResponseFlag.UpstreamTimeout => "upstream-timeout"u8,
        ResponseFlag.UpstreamReset => "upstream-reset"u8,
        ResponseFlag.BadUpstreamResponse => "bad-upstream-response"u8,
        ResponseFlag.DownstreamProtocolError => "bad-request"u8,
        ResponseFlag.RequestTooLarge => "request-body-too-large"u8,
        ResponseFlag.RequestHeaderTimeout => "request-header-timeout"u8,
        ResponseFlag.RateLimited => "rate-limited"u8,
        ResponseFlag.FaultInjected => "fault-injected"u8,
        ResponseFlag.UpstreamOverflow => "upstream-overflow"u8,
        ResponseFlag.AccessDenied => "rbac-access-denied"u8,
        _ => default,
    };
}
