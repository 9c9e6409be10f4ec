namespace Proxy.Configuration;

/// <summary>One field to add: a lowercase name and a value that may name request and connection facts (<c>%ROUTE_NAME%</c>).</summary>
public sealed record HeaderValueConfig
{
    /// <summary>Lowercase field name.</summary>
    public required string Name { get; init; }

    /// <summary>The value as written in the file, variables unexpanded.</summary>
    public required string Value { get; init; }
}
