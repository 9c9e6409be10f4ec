namespace Proxy.Host.Cli;

/// <summary>
/// The options of one command, parsed from <c>--name value</c>, <c>--name=value</c> and bare
/// <c>--flag</c> words; an option may repeat. Commands ask for what they know and then call
/// <see cref="Unknown"/> to reject the rest.
/// </summary>
public sealed class ArgList
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    private ArgList()
    {
    }

    /// <summary>Parses <paramref name="args"/>; names in <paramref name="flags"/> take no value.</summary>
    public static ArgList Parse(ReadOnlySpan<string> args, IReadOnlySet<string> flags, out string? error)
    {
        var list = new ArgList();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal))
            {
                error = $"unexpected argument '{name}'";
                return list;
            }

            string? value = null;
            var eq = name.IndexOf('=');
            if (eq > 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }

            if (flags.Contains(name))
            {
                list._flags.Add(name);
                continue;
            }

            if (value is null)
            {
                if (i + 1 >= args.Length)
                {
                    error = $"option {name} needs a value";
                    return list;
                }

                value = args[++i];
            }

            if (!list._values.TryGetValue(name, out var values))
            {
                list._values[name] = values = [];
            }

            values.Add(value);
        }

        return list;
    }

    /// <summary>The last value of an option, or null.</summary>
    public string? Value(string name)
    {
        _used.Add(name);
        return _values.TryGetValue(name, out var values) ? values[^1] : null;
    }

    /// <summary>Every value of a repeatable option; comma-separated values are split too.</summary>
    public List<string> Values(string name)
    {
        _used.Add(name);
        var all = new List<string>();
        if (_values.TryGetValue(name, out var values))
        {
            foreach (var value in values)
            {
                foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    all.Add(part);
                }
            }
        }

        return all;
    }

    /// <summary>Whether a flag was given.</summary>
    public bool Flag(string name)
    {
        _used.Add(name);
        return _flags.Contains(name);
    }

    /// <summary>The first option given that the command never asked for, or null.</summary>
    public string? Unknown()
    {
        foreach (var name in _values.Keys)
        {
            if (!_used.Contains(name))
            {
                return name;
            }
        }

        return null;
    }
}
