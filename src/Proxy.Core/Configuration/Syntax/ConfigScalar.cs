namespace Proxy.Configuration.Syntax;

/// <summary>A scalar value as written in the document; typing happens later, in the binder.</summary>
internal sealed class ConfigScalar : ConfigNode
{
    public ConfigScalar(string value, bool quoted, int line, int column)
        : base(line, column)
    {
        Value = value;
        IsQuoted = quoted;
    }

    /// <summary>The text of the scalar, with quotes and escapes already resolved.</summary>
    public string Value { get; }

    /// <summary>True for quoted and block scalars, which are always strings (never null).</summary>
    public bool IsQuoted { get; }

    /// <summary>YAML's plain null forms: empty, <c>~</c>, <c>null</c> (JSON's null is the same plain word).</summary>
    public bool IsNull => !IsQuoted && Value is "" or "~" or "null" or "Null" or "NULL";

    public override string Kind => "a scalar";
}
