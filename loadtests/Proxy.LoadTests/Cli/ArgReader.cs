using System.Globalization;

namespace Proxy.LoadTests.Cli;

/// <summary>Reads "--name value" options and "--flag" switches; unknown names are errors.</summary>
public sealed class ArgReader
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/>; names listed in <paramref name="flags"/> take no value.</summary>
    public ArgReader(IReadOnlyList<string> args, IReadOnlyCollection<string> options, IReadOnlyCollection<string> flags)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (flags.Contains(name))
            {
                _values[name] = null;
            }
            else if (options.Contains(name))
            {
                if (i + 1 >= args.Count)
                {
                    throw new UsageException($"{name} needs a value");
                }

                _values[name] = args[++i];
            }
            else
            {
                throw new UsageException($"unknown argument '{name}'");
            }
        }
    }

    /// <summary>True when the switch was given.</summary>
    public bool Flag(string name) => _values.ContainsKey(name);

    /// <summary>The option's value, or null.</summary>
    public string? String(string name) => _values.GetValueOrDefault(name);

    /// <summary>A required option's value.</summary>
    public string Required(string name) => String(name) ?? throw new UsageException($"{name} is required");

    /// <summary>A positive number option.</summary>
    public double Number(string name, double fallback)
    {
        if (String(name) is not { } text)
        {
            return fallback;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? value
            : throw new UsageException($"{name}: '{text}' is not a positive number");
    }

    /// <summary>A duration option: "250ms", "10s", "2m" (a bare number means seconds).</summary>
    public TimeSpan Duration(string name, TimeSpan fallback) =>
        String(name) is { } text ? ParseDuration(name, text) : fallback;

    private static TimeSpan ParseDuration(string name, string text)
    {
        (string number, double scale) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1)
            : text.EndsWith('m') ? (text[..^1], 60)
            : (text, 1);
        return double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value > 0
            ? TimeSpan.FromSeconds(value * scale)
            : throw new UsageException($"{name}: '{text}' is not a duration like 500ms, 10s or 2m");
    }
}
