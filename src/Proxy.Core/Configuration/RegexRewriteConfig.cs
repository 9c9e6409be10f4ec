namespace Proxy.Configuration;

/// <summary>A path rewrite by regular expression: every match of <see cref="Pattern"/> in the path becomes <see cref="Substitution"/> (Envoy's <c>regex_rewrite</c>).</summary>
public sealed record RegexRewriteConfig
{
    /// <summary>The pattern, in .NET syntax without backreferences or lookarounds (it runs non-backtracking).</summary>
    public required string Pattern { get; init; }

    /// <summary>The replacement; <c>\1</c> to <c>\9</c> insert capture groups.</summary>
    public required string Substitution { get; init; }
}
