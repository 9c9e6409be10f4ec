namespace Proxy.Configuration;

/// <summary>The outcome of loading a configuration: the model when valid, otherwise every error found.</summary>
public sealed class ConfigLoadResult
{
    public ConfigLoadResult(ProxyConfig? config, IReadOnlyList<ConfigError> errors)
    {
        Config = errors.Count == 0 ? config : null;
        Errors = errors;
    }

    /// <summary>The validated configuration; null when there are errors (bad config is rejected whole).</summary>
    public ProxyConfig? Config { get; }

    /// <summary>Every error, ordered by position in the file.</summary>
    public IReadOnlyList<ConfigError> Errors { get; }

    /// <summary>True when the configuration is valid and <see cref="Config"/> is set.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Config))]
    public bool Success => Config is not null;
}
