namespace Proxy.Configuration;

/// <summary>Process log and access log settings.</summary>
public sealed record LogConfig
{
    /// <summary><c>text</c> or <c>json</c> (default text).</summary>
    public string Format { get; init; } = "text";

    /// <summary><c>debug</c>, <c>info</c>, <c>warn</c> or <c>error</c> (default info).</summary>
    public string Level { get; init; } = "info";

    /// <summary><c>stdout</c>, an absolute file path, or null for no access log (default).</summary>
    public string? AccessLog { get; init; }

    /// <summary>An Envoy-style format string for access log lines (checked when the file is loaded); null for JSON lines.</summary>
    public string? AccessLogFormat { get; init; }
}
