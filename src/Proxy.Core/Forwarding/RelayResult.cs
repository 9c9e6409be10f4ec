namespace Proxy.Forwarding;

/// <summary>How relaying a response ended: what can be reused, how much moved, and any flag.</summary>
public readonly record struct RelayResult(bool UpstreamReusable, bool DownstreamKeepAlive, long ResponseBytes, ResponseFlag Flag);
