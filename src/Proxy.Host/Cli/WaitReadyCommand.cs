using System.Net.Sockets;
using Proxy.Configuration;

namespace Proxy.Host.Cli;

/// <summary>
/// <c>proxy wait-ready [--admin 127.0.0.1:15000] [--timeout 60s]</c>: polls the admin server's
/// /ready until it answers 200 (exit 0) or the timeout passes (exit 1). An app container's
/// entrypoint runs it first, so the app starts only once its sidecar can carry traffic.
/// </summary>
public static class WaitReadyCommand
{
    private static readonly HashSet<string> NoFlags = new(StringComparer.Ordinal);

    /// <summary>Time between polls.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public static async Task<int> ExecuteAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var options = ArgList.Parse(args, NoFlags, out var error);
        var admin = options.Value("--admin") ?? "127.0.0.1:15000";
        var timeoutText = options.Value("--timeout") ?? "60s";
        error ??= options.Unknown() is { } unknown ? $"unknown option {unknown}" : null;
        if (error is null && !HostPort.TryParse(admin, out _, out var addressError))
        {
            error = $"--admin '{admin}': {addressError}";
        }

        if (error is null && !ConfigDuration.TryParse(timeoutText, out _, out var durationError))
        {
            error = $"--timeout '{timeoutText}': {durationError}";
        }

        if (error is not null)
        {
            stderr.WriteLine($"proxy wait-ready: {error}");
            return 2;
        }

        ConfigDuration.TryParse(timeoutText, out var timeout, out _);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var url = new Uri($"http://{admin}/ready");
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(url).ConfigureAwait(false);
                if ((int)response.StatusCode == 200)
                {
                    stdout.WriteLine($"proxy wait-ready: {admin} is ready");
                    return 0;
                }

                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or SocketException)
            {
                last = ex switch
                {
                    TaskCanceledException => "no answer within 2 s",
                    HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } or SocketException { SocketErrorCode: SocketError.ConnectionRefused }
                        => "connection refused: nothing listens there yet",
                    _ => "the admin server did not answer over HTTP",
                };
            }

            if (DateTime.UtcNow + PollInterval > deadline)
            {
                stderr.WriteLine($"proxy wait-ready: {admin} not ready after {timeoutText} (last: {last})");
                return 1;
            }

            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }
}
