namespace Proxy.Configuration.Syntax;

/// <summary>
/// One node of a parsed configuration document (a mapping, a sequence or a scalar) with the
/// 1-based line and column where it starts, so every validation error can point at its source.
/// </summary>
internal abstract class ConfigNode
{
    protected ConfigNode(int line, int column)
    {
        Line = line;
        Column = column;
    }

    /// <summary>1-based line of the node's first character.</summary>
    public int Line { get; }

    /// <summary>1-based column of the node's first character.</summary>
    public int Column { get; }

    /// <summary>A short noun for error messages ("a mapping", "a sequence", "a scalar").</summary>
    public abstract string Kind { get; }
}
