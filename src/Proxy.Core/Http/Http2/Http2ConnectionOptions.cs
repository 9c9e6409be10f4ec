namespace Proxy.Http.Http2;

/// <summary>The settings this side of an HTTP/2 connection advertises and the limits it enforces.</summary>
public sealed record Http2ConnectionOptions
{
    /// <summary>SETTINGS_MAX_CONCURRENT_STREAMS advertised to the peer (the server side enforces it with REFUSED_STREAM).</summary>
    public int MaxConcurrentStreams { get; init; } = 100;

    /// <summary>SETTINGS_INITIAL_WINDOW_SIZE advertised: how much a stream may buffer here before its data is forwarded.</summary>
    public int InitialStreamWindowSize { get; init; } = 256 * 1024;

    /// <summary>The connection receive window, raised from 65535 with a WINDOW_UPDATE right after the preface.</summary>
    public int ConnectionWindowSize { get; init; } = 1024 * 1024;

    /// <summary>SETTINGS_MAX_HEADER_LIST_SIZE advertised and enforced by the HPACK decoder.</summary>
    public int MaxHeaderListSize { get; init; } = 32 * 1024;

    /// <summary>Largest encoded field block (HEADERS plus CONTINUATIONs) buffered before it is decoded.</summary>
    public int MaxHeaderBlockSize { get; init; } = 64 * 1024;

    /// <summary>The abuse thresholds.</summary>
    public Http2FloodLimits Flood { get; init; } = Http2FloodLimits.Default;

    /// <summary>The defaults.</summary>
    public static Http2ConnectionOptions Default { get; } = new();
}
