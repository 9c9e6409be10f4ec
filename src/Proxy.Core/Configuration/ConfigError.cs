namespace Proxy.Configuration;

/// <summary>
/// One problem found in a configuration file: where it is (file, 1-based line and column, and the
/// path of the offending key such as <c>listeners[1].routes[0].cluster</c>) and what is wrong.
/// </summary>
public sealed record ConfigError(string Source, int Line, int Column, string Path, string Message)
{
    /// <summary>Formats as <c>file:line:col: path: message</c>, the form editors and CI logs link to.</summary>
    public override string ToString() => Path.Length == 0
        ? $"{Source}:{Line}:{Column}: {Message}"
        : $"{Source}:{Line}:{Column}: {Path}: {Message}";
}
