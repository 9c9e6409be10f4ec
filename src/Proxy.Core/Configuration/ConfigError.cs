namespace Proxy.Configuration;

/// <summary>
/// One problem found in a configuration file: where it is (file, 1-based line and column, and the
/// path of the offending key such as <c>listeners[1].routes[0].cluster</c>) and what is wrong.
/// </summary>
public sealed record ConfigError(string Source, int Line, int Column, string Path, string Message)
{
    /// <summary>
    /// Formats as <c>file:line:col: path: message</c>, the form editors and CI logs link to; a problem with the file
    /// as a whole (it is missing or unreadable: line 0) as <c>file: message</c>.
    /// </summary>
    public override string ToString()
    {
        var where = Line > 0 ? $"{Source}:{Line}:{Column}" : Source;
        return Path.Length == 0 ? $"{where}: {Message}" : $"{where}: {Path}: {Message}";
    }
}
