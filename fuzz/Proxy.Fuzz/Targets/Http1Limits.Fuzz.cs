using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets;

/// <summary>The limits the HTTP/1.1 targets switch between: the defaults, and small ones the fuzzer can reach.</summary>
public static class FuzzHttp1Limits
{
    /// <summary>Small enough that inputs of a few hundred bytes hit every limit check.</summary>
    public static Http1Limits Small { get; } = new()
    {
        MaxRequestTargetLength = 48,
        MaxHeaderBytes = 200,
        MaxHeaderCount = 6,
        MaxChunkLineLength = 40,
        MaxTrailerBytes = 64,
    };

    /// <summary>Large enough that a head the proxy wrote from an accepted one never trips a limit on re-reading.</summary>
    public static Http1Limits Roomy { get; } = new()
    {
        MaxRequestTargetLength = 1 << 20,
        MaxHeaderBytes = 1 << 22,
        MaxHeaderCount = 1 << 16,
    };

    /// <summary>Control bit 0 picks the small limits.</summary>
    public static Http1Limits Pick(byte control) => (control & 1) != 0 ? Small : Http1Limits.Default;
}
