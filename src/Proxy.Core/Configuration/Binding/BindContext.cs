using System.Globalization;
using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>
/// State shared while binding one document: the error list, the source name, the directory that
/// relative file paths resolve against, and the cluster references checked once all clusters are known.
/// Each Read method reports a problem and returns null, so binding carries on and finds every error.
/// </summary>
internal sealed class BindContext
{
    public BindContext(string source, string baseDirectory, ConfigValidationOptions options, List<ConfigError> errors)
    {
        Source = source;
        BaseDirectory = baseDirectory;
        Options = options;
        Errors = errors;
    }

    public string Source { get; }

    public string BaseDirectory { get; }

    public ConfigValidationOptions Options { get; }

    public List<ConfigError> Errors { get; }

    /// <summary>Every place a cluster is named, resolved after the clusters are bound.</summary>
    public List<(string Name, ConfigNode Node, string Path)> ClusterReferences { get; } = [];

    public void Error(ConfigNode at, string path, string message) =>
        Errors.Add(new ConfigError(Source, at.Line, at.Column, path, message));

    public static string Child(string path, string key) => path.Length == 0 ? key : path + "." + key;

    public static string Index(string path, int index) => path + "[" + index.ToString(CultureInfo.InvariantCulture) + "]";

    /// <summary>Makes a configured file path absolute, relative to the configuration file's directory.</summary>
    public string ResolveFile(string path) => System.IO.Path.GetFullPath(System.IO.Path.Combine(BaseDirectory, path));

    /// <summary>Records a cluster name to check once every cluster is known.</summary>
    public void ReferenceCluster(string name, ConfigNode node, string path) => ClusterReferences.Add((name, node, path));

    public string? ReadString(ConfigNode node, string path)
    {
        if (node is ConfigScalar scalar)
        {
            if (scalar.Value.Length == 0)
            {
                Error(node, path, "must not be empty");
                return null;
            }
            return scalar.Value;
        }
        Error(node, path, $"expected a string, found {node.Kind}");
        return null;
    }

    public long? ReadInteger(ConfigNode node, string path, long min, long max)
    {
        if (node is not ConfigScalar scalar)
        {
            Error(node, path, $"expected a number, found {node.Kind}");
            return null;
        }
        if (!long.TryParse(scalar.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
        {
            Error(node, path, $"expected a whole number, found '{scalar.Value}'");
            return null;
        }
        return CheckRange(node, path, value, min, max) ? value : null;
    }

    public int? ReadInt(ConfigNode node, string path, int min, int max) => (int?)ReadInteger(node, path, min, max);

    public double? ReadDouble(ConfigNode node, string path, double min, double max)
    {
        if (node is not ConfigScalar scalar)
        {
            Error(node, path, $"expected a number, found {node.Kind}");
            return null;
        }
        if (!double.TryParse(scalar.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value))
        {
            Error(node, path, $"expected a number, found '{scalar.Value}'");
            return null;
        }
        if (value < min || value > max)
        {
            Error(node, path, $"{scalar.Value} is out of range ({Format(min)} to {Format(max)})");
            return null;
        }
        return value;
    }

    public bool? ReadBool(ConfigNode node, string path)
    {
        if (node is ConfigScalar scalar)
        {
            switch (scalar.Value)
            {
                case "true" or "True" or "TRUE":
                    return true;
                case "false" or "False" or "FALSE":
                    return false;
            }
            Error(node, path, $"expected true or false, found '{scalar.Value}'");
            return null;
        }
        Error(node, path, $"expected true or false, found {node.Kind}");
        return null;
    }

    /// <summary>Reads a duration; <paramref name="positive"/> rejects 0 for timeouts, where 0 would mean "fire at once".</summary>
    public TimeSpan? ReadDuration(ConfigNode node, string path, bool positive)
    {
        if (node is not ConfigScalar scalar)
        {
            Error(node, path, $"expected a duration such as 250ms or 5s, found {node.Kind}");
            return null;
        }
        if (!ConfigDuration.TryParse(scalar.Value, out var value, out string error))
        {
            Error(node, path, error);
            return null;
        }
        if (positive && value == TimeSpan.Zero)
        {
            Error(node, path, "must be greater than 0");
            return null;
        }
        return value;
    }

    public HostPort? ReadAddress(ConfigNode node, string path)
    {
        if (node is not ConfigScalar scalar)
        {
            Error(node, path, $"expected an address host:port, found {node.Kind}");
            return null;
        }
        if (!HostPort.TryParse(scalar.Value, out var value, out string error))
        {
            Error(node, path, error);
            return null;
        }
        return value;
    }

    /// <summary>A byte count: a whole number with an optional KiB, MiB or GiB suffix.</summary>
    public long? ReadSize(ConfigNode node, string path, long max)
    {
        if (node is not ConfigScalar scalar)
        {
            Error(node, path, $"expected a size such as 65536 or 64KiB, found {node.Kind}");
            return null;
        }
        string text = scalar.Value;
        long unit = 1;
        if (text.EndsWith("KiB", StringComparison.Ordinal)) { unit = 1L << 10; text = text[..^3]; }
        else if (text.EndsWith("MiB", StringComparison.Ordinal)) { unit = 1L << 20; text = text[..^3]; }
        else if (text.EndsWith("GiB", StringComparison.Ordinal)) { unit = 1L << 30; text = text[..^3]; }
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long amount) || amount > max / unit)
        {
            Error(node, path, $"'{scalar.Value}' is not a size from 0 to {max} bytes (a whole number, optionally with KiB, MiB or GiB)");
            return null;
        }
        return amount * unit;
    }

    /// <summary>Maps a word to one of <paramref name="values"/>; unknown words list the allowed ones.</summary>
    public T? ReadEnum<T>(ConfigNode node, string path, string[] names, T[] values)
        where T : struct
    {
        string? text = ReadString(node, path);
        if (text is null)
        {
            return null;
        }
        int i = Array.IndexOf(names, text);
        if (i < 0)
        {
            Error(node, path, $"unknown value '{text}'; expected one of: {string.Join(", ", names)}");
            return null;
        }
        return values[i];
    }

    /// <summary>Reads one of a fixed set of words; unknown words list the allowed ones.</summary>
    public string? ReadWord(ConfigNode node, string path, string[] names)
    {
        int i = ReadEnum(node, path, names, Indexes(names.Length)) ?? -1;
        return i < 0 ? null : names[i];
    }

    private static int[] Indexes(int count)
    {
        var indexes = new int[count];
        for (int i = 0; i < count; i++)
        {
            indexes[i] = i;
        }
        return indexes;
    }

    /// <summary>
    /// Reads a sequence. Every list in the file accepts its one item written alone, a scalar
    /// (<c>endpoints: 10.0.0.5:9000</c>) or a mapping (<c>certificates: { cert: a.pem, key: a.key }</c>),
    /// so no list key behaves differently from another.
    /// </summary>
    public IReadOnlyList<ConfigNode>? ReadSequence(ConfigNode node, string path)
    {
        if (node is ConfigSequence sequence)
        {
            return sequence.Items;
        }
        if (node is ConfigScalar or ConfigMapping)
        {
            return [node];
        }
        Error(node, path, $"expected a sequence, found {node.Kind}");
        return null;
    }

    public ConfigList<string> ReadStringList(ConfigNode node, string path)
    {
        var items = ReadSequence(node, path);
        if (items is null)
        {
            return ConfigList<string>.Empty;
        }
        var list = new List<string>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            if (ReadString(items[i], Index(path, i)) is { } value)
            {
                list.Add(value);
            }
        }
        return ConfigList<string>.From(list);
    }

    public ConfigList<int> ReadIntList(ConfigNode node, string path, int min, int max)
    {
        var items = ReadSequence(node, path);
        if (items is null)
        {
            return ConfigList<int>.Empty;
        }
        var list = new List<int>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            if (ReadInt(items[i], Index(path, i), min, max) is { } value)
            {
                list.Add(value);
            }
        }
        return ConfigList<int>.From(list);
    }

    private bool CheckRange(ConfigNode node, string path, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            Error(node, path, max == long.MaxValue || max == int.MaxValue
                ? $"{value} is out of range (must be at least {min})"
                : $"{value} is out of range ({min} to {max})");
            return false;
        }
        return true;
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);
}
