namespace Proxy.Configuration.Syntax;

/// <summary>A YAML mapping or JSON object; keys are unique (duplicates are reported while parsing).</summary>
internal sealed class ConfigMapping : ConfigNode
{
    public ConfigMapping(List<KeyValuePair<ConfigScalar, ConfigNode>> entries, int line, int column)
        : base(line, column)
    {
        Entries = entries;
    }

    /// <summary>The entries in document order.</summary>
    public IReadOnlyList<KeyValuePair<ConfigScalar, ConfigNode>> Entries { get; }

    public override string Kind => "a mapping";

    /// <summary>Finds the value of <paramref name="key"/>, or null. Mappings are small, so a scan is enough.</summary>
    public ConfigNode? Find(string key)
    {
        foreach (var entry in Entries)
        {
            if (entry.Key.Value == key)
            {
                return entry.Value;
            }
        }
        return null;
    }
}
