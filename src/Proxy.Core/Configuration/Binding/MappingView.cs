using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>
/// A mapping being bound: checks its keys against the allowed set once, then reads typed values
/// by key, reporting wrong types and missing required keys with the right location and path.
/// A key whose value is null (<c>key:</c> or <c>key: null</c>) counts as absent.
/// </summary>
internal sealed class MappingView
{
    private readonly BindContext _ctx;

    private MappingView(BindContext ctx, ConfigMapping node, string path)
    {
        _ctx = ctx;
        Node = node;
        Path = path;
    }

    public ConfigMapping Node { get; }

    public string Path { get; }

    /// <summary>Opens <paramref name="node"/> as a mapping whose keys must be among <paramref name="allowed"/>.</summary>
    public static MappingView? Open(BindContext ctx, ConfigNode node, string path, string[] allowed)
    {
        if (node is not ConfigMapping mapping)
        {
            ctx.Error(node, path, $"expected a mapping, found {node.Kind}");
            return null;
        }
        foreach (var entry in mapping.Entries)
        {
            if (Array.IndexOf(allowed, entry.Key.Value) < 0)
            {
                ctx.Error(entry.Key, BindContext.Child(path, entry.Key.Value),
                    $"unknown key '{entry.Key.Value}'; allowed keys: {string.Join(", ", allowed)}");
            }
        }
        return new MappingView(ctx, mapping, path);
    }

    public string ChildPath(string key) => BindContext.Child(Path, key);

    /// <summary>The value of <paramref name="key"/>, or null when absent or null.</summary>
    public ConfigNode? Get(string key)
    {
        var node = Node.Find(key);
        return node is ConfigScalar { IsNull: true } ? null : node;
    }

    public bool Has(string key) => Get(key) is not null;

    /// <summary>The value of a required key; reports it missing (at the mapping) when absent.</summary>
    public ConfigNode? Require(string key)
    {
        var node = Get(key);
        if (node is null)
        {
            _ctx.Error(Node, ChildPath(key), $"missing required key '{key}'");
        }
        return node;
    }

    public void Error(string key, string message) => _ctx.Error(Get(key) ?? Node, ChildPath(key), message);

    public string? String(string key, bool required = false) =>
        (required ? Require(key) : Get(key)) is { } node ? _ctx.ReadString(node, ChildPath(key)) : null;

    public int Int(string key, int defaultValue, int min = 0, int max = int.MaxValue) =>
        Get(key) is { } node ? _ctx.ReadInt(node, ChildPath(key), min, max) ?? defaultValue : defaultValue;

    public int? RequiredInt(string key, int min, int max) =>
        Require(key) is { } node ? _ctx.ReadInt(node, ChildPath(key), min, max) : null;

    public double Double(string key, double defaultValue, double min, double max) =>
        Get(key) is { } node ? _ctx.ReadDouble(node, ChildPath(key), min, max) ?? defaultValue : defaultValue;

    /// <summary>A share of traffic, 0 to 100.</summary>
    public double Percent(string key) => Double(key, 100, 0, 100);

    public bool Bool(string key, bool defaultValue) =>
        Get(key) is { } node ? _ctx.ReadBool(node, ChildPath(key)) ?? defaultValue : defaultValue;

    public TimeSpan Duration(string key, TimeSpan defaultValue, bool positive = true) =>
        Get(key) is { } node ? _ctx.ReadDuration(node, ChildPath(key), positive) ?? defaultValue : defaultValue;

    public TimeSpan? OptionalDuration(string key, bool positive = true) =>
        Get(key) is { } node ? _ctx.ReadDuration(node, ChildPath(key), positive) : null;

    public HostPort? Address(string key, bool required) =>
        (required ? Require(key) : Get(key)) is { } node ? _ctx.ReadAddress(node, ChildPath(key)) : null;

    public long Size(string key, long defaultValue, long max) =>
        Get(key) is { } node ? _ctx.ReadSize(node, ChildPath(key), max) ?? defaultValue : defaultValue;

    public T Enum<T>(string key, T defaultValue, string[] names, T[] values)
        where T : struct =>
        Get(key) is { } node ? _ctx.ReadEnum(node, ChildPath(key), names, values) ?? defaultValue : defaultValue;

    public string Word(string key, string defaultValue, string[] names) =>
        Get(key) is { } node ? _ctx.ReadWord(node, ChildPath(key), names) ?? defaultValue : defaultValue;

    public ConfigList<string> StringList(string key) =>
        Get(key) is { } node ? _ctx.ReadStringList(node, ChildPath(key)) : ConfigList<string>.Empty;

    public ConfigList<int> IntList(string key, int min, int max) =>
        Get(key) is { } node ? _ctx.ReadIntList(node, ChildPath(key), min, max) : ConfigList<int>.Empty;

    /// <summary>A file path made absolute against the configuration file's directory.</summary>
    public string? File(string key, bool required = false) =>
        String(key, required) is { } path ? _ctx.ResolveFile(path) : null;

    /// <summary>A cluster name, recorded for the cross-check against the defined clusters.</summary>
    public string? ClusterName(string key, bool required)
    {
        string? name = String(key, required);
        if (name is not null)
        {
            _ctx.ReferenceCluster(name, Get(key)!, ChildPath(key));
        }
        return name;
    }
}
