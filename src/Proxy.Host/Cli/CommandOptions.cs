namespace Proxy.Host.Cli;

/// <summary>Options shared by the commands, parsed from <c>--name value</c> pairs.</summary>
public sealed class CommandOptions
{
    public string? ConfigPath { get; private set; }

    public string? LogFormat { get; private set; }

    /// <summary><c>--exit-when-app-gone HOST:PORT</c>: the application's address to watch.</summary>
    public System.Net.IPEndPoint? ExitWhenAppGone { get; private set; }

    public static CommandOptions Parse(ReadOnlySpan<string> args, out string? error)
    {
        var options = new CommandOptions();
        error = null;
        for (var i = 0; i < args.Length; i++)
        {
            var name = args[i];

            // "proxy validate proxy.yaml": a bare word is the config file, as --config gives it.
            if (!name.StartsWith('-'))
            {
                if (options.ConfigPath is not null)
                {
                    error = $"unexpected argument '{name}'; give one config file, as --config FILE or a bare FILE";
                    return options;
                }

                options.ConfigPath = name;
                continue;
            }

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
                case "--exit-when-app-gone" when System.Net.IPEndPoint.TryParse(value, out var app) && app.Port != 0:
                    options.ExitWhenAppGone = app;
                    break;
                case "--exit-when-app-gone":
                    error = $"--exit-when-app-gone needs an ip:port, not '{value}'";
                    return options;
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
