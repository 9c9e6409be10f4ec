using Proxy.Configuration.Binding;
using Proxy.Configuration.Syntax;

namespace Proxy.Configuration;

/// <summary>
/// Loads a configuration file (YAML, or JSON, which is read by the same YAML parser since JSON
/// is YAML's flow style) into a validated <see cref="ProxyConfig"/>, or every error with its location.
/// No reflection: parser events become a node tree that hand-written binders map onto the model.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Reads and loads <paramref name="path"/>; relative file paths inside resolve against its directory.</summary>
    public static ConfigLoadResult LoadFile(string path, ConfigValidationOptions? options = null)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new ConfigLoadResult(null, [new ConfigError(path, 0, 0, "", FileReadError.Describe("the configuration file", path, e, relativeTo: "the current directory"))]);
        }
        return LoadText(text, path, options);
    }

    /// <summary>
    /// Loads configuration text. <paramref name="sourceName"/> names the text in errors and, through
    /// its directory (relative to the current directory), anchors relative file paths.
    /// </summary>
    public static ConfigLoadResult LoadText(string text, string sourceName, ConfigValidationOptions? options = null)
    {
        var errors = new List<ConfigError>();
        var root = ConfigDocumentReader.Read(text, sourceName, errors);
        ProxyConfig? config = null;
        if (root is not null)
        {
            string baseDirectory = Path.GetDirectoryName(Path.GetFullPath(sourceName)) ?? Directory.GetCurrentDirectory();
            var context = new BindContext(sourceName, baseDirectory, options ?? ConfigValidationOptions.Default, errors);
            config = ConfigBinder.Bind(context, root);
        }
        // Stable order by position reads best; binding discovers cross-reference errors last.
        var sorted = errors.ToArray();
        var keys = new long[sorted.Length];
        for (int i = 0; i < sorted.Length; i++)
        {
            keys[i] = ((long)sorted[i].Line << 40) | ((long)sorted[i].Column << 20) | (uint)i;
        }
        Array.Sort(keys, sorted);
        return new ConfigLoadResult(config, sorted);
    }
}
