using Proxy.Observability;

namespace Proxy.Host.Admin;

/// <summary>
/// /logging: GET reads the process log level; POST <c>/logging?level=debug</c> sets it at once,
/// without a reload (Envoy's /logging). A later reload sets it back to the file's <c>log.level</c>.
/// </summary>
public static class LoggingPage
{
    private static readonly string[] Names = ["debug", "info", "warn", "error"];

    public static AdminResponse Get(Logger log) => AdminResponse.Text(200, $"level: {Name(log.Level)}\n");

    public static AdminResponse Set(Logger log, AdminRequest request)
    {
        string? wanted = request.QueryValue("level");
        int index = wanted is null ? -1 : Array.IndexOf(Names, wanted.ToLowerInvariant());
        if (index < 0)
        {
            return AdminResponse.Text(400, wanted is null
                ? "name the level: POST /logging?level=debug (debug, info, warn or error)\n"
                : $"unknown level '{wanted}'; use debug, info, warn or error\n");
        }

        var previous = log.Level;
        log.Level = (LogLevel)index;
        log.Warn("log level changed through the admin API", ("from", Name(previous)), ("to", Names[index]));
        return AdminResponse.Text(200, $"level: {Names[index]}\n");
    }

    private static string Name(LogLevel level) => (uint)level < (uint)Names.Length ? Names[(int)level] : level.ToString();
}
