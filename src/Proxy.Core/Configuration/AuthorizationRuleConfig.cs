namespace Proxy.Configuration;

/// <summary>An inbound authorization rule: an action and conditions that must all hold (empty lists match anything).</summary>
public sealed record AuthorizationRuleConfig
{
    /// <summary>allow or deny.</summary>
    public required AuthorizationAction Action { get; init; }

    /// <summary>Peer SPIFFE IDs (<c>*</c> for any authenticated peer); empty for anyone.</summary>
    public IReadOnlyList<string> Principals { get; init; } = ConfigList<string>.Empty;

    /// <summary>Destination ports; empty for any.</summary>
    public IReadOnlyList<int> Ports { get; init; } = ConfigList<int>.Empty;

    /// <summary>HTTP methods; empty for any.</summary>
    public IReadOnlyList<string> Methods { get; init; } = ConfigList<string>.Empty;

    /// <summary>Path prefixes; empty for any.</summary>
    public IReadOnlyList<string> Paths { get; init; } = ConfigList<string>.Empty;
}
