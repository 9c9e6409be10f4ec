namespace Proxy.Host.Cli;

/// <summary>Options shared by the commands, parsed from <c>--name value</c> pairs.</summary>
public sealed class CommandOptions
{
    public string? ConfigPath { get; private set; }

    public string? LogFormat { get; private set; }

    public static CommandOptions Parse(ReadOnlySpan<string> args, out string? error)
    {
        var options = new CommandOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];
            string? value = null;
            var eq = name.IndexOf('=');
            if (eq > 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Length)
            {
                value = args[++i];
            }

            if (value is null)
            {
                error = $"option {name} needs a value";
                return options;
            }

            switch (name)
            {
                case "--config" or "-c":
                    options.ConfigPath = value;
                    break;
                case "--log-format" when value is "text" or "json":
                    options.LogFormat = value;
                    break;
                case "--log-format":
                    error = $"--log-format must be text or json, not '{value}'";
                    return options;
                default:
                    error = $"unknown option {name}";
                    return options;
            }
        }

        return options;
    }
}
