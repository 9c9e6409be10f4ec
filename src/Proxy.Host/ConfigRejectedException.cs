using Proxy.Configuration;

namespace Proxy.Host;

/// <summary>The configuration had errors; all of them are listed.</summary>
public sealed class ConfigRejectedException(IReadOnlyList<ConfigError> errors)
    : Exception($"{errors.Count} configuration error(s): {string.Join("; ", errors)}")
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
