namespace Proxy.Http.Http1;

/// <summary>
/// Size limits that bound the memory and CPU one HTTP/1.1 message can cost. Immutable once built;
/// one instance is shared by every connection of a listener.
/// </summary>
public sealed class Http1Limits
{
    /// <summary>The defaults: 8 KiB target, 64 KiB header section, 100 fields, 4 KiB chunk line, 16 KiB trailers.</summary>
    public static Http1Limits Default { get; } = new();

    /// <summary>Longest request-target accepted; longer ones get 414.</summary>
    public int MaxRequestTargetLength { get; init; } = 8 * 1024;

    /// <summary>Largest header section (field lines after the start line, with their CRLFs); larger gets 431.</summary>
    public int MaxHeaderBytes { get; init; } = 64 * 1024;

    /// <summary>Most field lines in one head; more gets 431.</summary>
    public int MaxHeaderCount { get; init; } = 100;

    /// <summary>Longest chunk-size line (size plus extensions), so extensions cannot stream forever.</summary>
    public int MaxChunkLineLength { get; init; } = 4 * 1024;

    /// <summary>Largest trailer section of a chunked body.</summary>
    public int MaxTrailerBytes { get; init; } = 16 * 1024;

    /// <summary>
    /// Longest start line: the target limit plus room for the method, version and (for responses)
    /// the reason phrase. Checked while the line is still incomplete so garbage cannot pile up.
    /// </summary>
    internal int MaxStartLineLength => MaxRequestTargetLength + 1024;
}
