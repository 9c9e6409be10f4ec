namespace Proxy.Configuration.Syntax;

/// <summary>A YAML sequence or JSON array.</summary>
internal sealed class ConfigSequence : ConfigNode
{
    public ConfigSequence(List<ConfigNode> items, int line, int column)
        : base(line, column)
    {
        Items = items;
    }

    /// <summary>The items in document order.</summary>
    public IReadOnlyList<ConfigNode> Items { get; }

    public override string Kind => "a sequence";
}
