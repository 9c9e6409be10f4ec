using System.Text;
using Proxy.Configuration;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The YAML/JSON configuration reader and binder (<see cref="ConfigLoader"/>), what <c>proxy validate</c> runs: it
/// must never throw, whatever the text; a rejected text has at least one error; an accepted one, written back as
/// JSON by <see cref="ConfigWriter"/> (what GET /config serves), must load again to an equal model.
/// </summary>
public static class ConfigTarget
{
    public static FuzzTarget Target { get; } = new("config", "config reader and binder never throw; accepted configs round-trip through ConfigWriter", Run);

    private const string Source = "/nonexistent/fuzz/proxy.yaml";

    public static void Run(ReadOnlySpan<byte> input)
    {
        string text = Encoding.UTF8.GetString(input);
        ConfigLoadResult result = ConfigLoader.LoadText(text, Source);
        if (!result.Success)
        {
            FuzzFinding.Check(result.Errors.Count > 0, "rejected without an error");
            foreach (ConfigError error in result.Errors)
            {
                FuzzFinding.Check(!string.IsNullOrWhiteSpace(error.ToString()), "an empty error message");
            }

            return;
        }

        string json = ConfigWriter.ToJson(result.Config!);
        ConfigLoadResult again = ConfigLoader.LoadText(json, Source);
        FuzzFinding.Check(again.Success, "the written configuration does not load:\n" + string.Join("\n", again.Errors) + "\n" + json);
        FuzzFinding.Check(result.Config!.Equals(again.Config), "the written configuration loads to another model:\n" + json);
    }
}
