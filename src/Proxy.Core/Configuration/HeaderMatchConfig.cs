namespace Proxy.Configuration;

/// <summary>One header condition.</summary>
public sealed record HeaderMatchConfig
{
    /// <summary>Header name, lower case.</summary>
    public required string Name { get; init; }

    /// <summary>How the value is compared.</summary>
    public HeaderMatchKind Kind { get; init; } = HeaderMatchKind.Exact;

    /// <summary>The string, prefix or regex; null for <see cref="HeaderMatchKind.Present"/> and <see cref="HeaderMatchKind.Absent"/>.</summary>
    public string? Value { get; init; }

    /// <summary>True inverts the outcome (Envoy's <c>invert_match</c>); a missing header then matches a value test.</summary>
    public bool Invert { get; init; }
}
