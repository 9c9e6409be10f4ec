namespace Proxy.Configuration;

/// <summary>A route that answers with a fixed response instead of forwarding (Envoy's DirectResponseAction).</summary>
public sealed record DirectResponseConfig
{
    /// <summary>The largest body, inline or from a file (Envoy's default max_direct_response_body_size_bytes).</summary>
    public const int MaxBodyBytes = 4096;

    /// <summary>The status, 200-599 (Envoy's status).</summary>
    public int Status { get; init; } = 200;

    /// <summary>The body (Envoy's body): the inline text in UTF-8, or the file's bytes read at load; null for none.</summary>
    public ConfigBytes? Body { get; init; }

    /// <summary>The absolute path the body was read from (Envoy's body.filename); null for an inline body.</summary>
    public string? BodyFile { get; init; }

    /// <summary>The content-type as configured; null sends <c>text/plain</c> when there is a body.</summary>
    public string? ContentType { get; init; }
}
