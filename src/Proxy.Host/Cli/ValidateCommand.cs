using Proxy.Configuration;

namespace Proxy.Host.Cli;

/// <summary><c>proxy validate --config FILE</c>: every error with its location, the files it names included; exit 1 if any.</summary>
public static class ValidateCommand
{
    public static int Execute(CommandOptions options, TextWriter stdout, TextWriter stderr)
    {
        if (options.ConfigPath is null)
        {
            stderr.WriteLine("proxy validate: --config FILE is required");
            return 2;
        }

        var result = ConfigLoader.LoadFile(options.ConfigPath, ConfigValidationOptions.ForRunning);
        if (result.Success)
        {
            stdout.WriteLine($"{options.ConfigPath}: valid ({result.Config!.Listeners.Count} listener(s), {result.Config.Clusters.Count} cluster(s))");
            return 0;
        }

        foreach (var error in result.Errors)
        {
            stderr.WriteLine(error.ToString());
        }

        stderr.WriteLine($"{result.Errors.Count} error(s)");
        return 1;
    }
}
