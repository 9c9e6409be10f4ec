using System.Net;
using System.Net.Sockets;
using System.Text;
using Proxy.Configuration;

namespace Proxy.Resilience;

/// <summary>
/// One active health probe over a real socket: a TCP connect, or an HTTP/1.1 GET whose status line decides.
/// Runs off the request path (on the health checker's timer), so it may allocate.
/// </summary>
public sealed class HealthProbe
{
    private const int MaxStatusLine = 1024;

    private readonly HealthCheckConfig _config;
    private readonly int[] _expected;

    public HealthProbe(HealthCheckConfig config)
    {
        _config = config;
        _expected = [.. config.ExpectedStatuses];
    }

    /// <summary>Whether <paramref name="status"/> counts as healthy: one of the expected statuses, or any 2xx when none is configured.</summary>
    public bool IsExpected(int status) =>
        _expected.Length == 0 ? status is >= 200 and <= 299 : Array.IndexOf(_expected, status) >= 0;

    /// <summary>Probes <paramref name="address"/> once, within the configured timeout.</summary>
    /// <param name="address">Where to connect.</param>
    /// <param name="authority">The Host header of http probes.</param>
    /// <param name="cancellationToken">Stops the probe (shutdown).</param>
    public async Task<HealthProbeResult> ProbeAsync(EndPoint address, string authority, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_config.Timeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(address, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthProbeResult.Timeout;
        }
        catch (SocketException)
        {
            return HealthProbeResult.ConnectFailed;
        }

        if (_config.Type == HealthCheckType.Tcp)
        {
            return HealthProbeResult.Healthy;
        }

        try
        {
            return await HttpCheckAsync(socket, authority, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthProbeResult.Timeout;
        }
        catch (SocketException)
        {
            return HealthProbeResult.BadResponse;
        }
    }

    private async Task<HealthProbeResult> HttpCheckAsync(Socket socket, string authority, CancellationToken cancellationToken)
    {
        // RFC 9112 section 3: request line, Host, and close so the server ends the exchange.
        string request = $"GET {_config.Path ?? "/"} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: proxy-health-check\r\nConnection: close\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, cancellationToken).ConfigureAwait(false);

        var buffer = new byte[MaxStatusLine];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            int end = buffer.AsSpan(0, length).IndexOf((byte)'\n');
            if (end >= 0)
            {
                return ParseStatusLine(buffer.AsSpan(0, end), out int status)
                    ? (IsExpected(status) ? HealthProbeResult.Healthy : HealthProbeResult.UnexpectedStatus)
                    : HealthProbeResult.BadResponse;
            }
        }

        return HealthProbeResult.BadResponse;
    }

    /// <summary>Reads the status of an HTTP/1.x status line (RFC 9112 section 4: <c>HTTP/1.1 200 OK</c>).</summary>
    public static bool ParseStatusLine(ReadOnlySpan<byte> line, out int status)
    {
        status = 0;
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[8] != (byte)' ')
        {
            return false;
        }

        for (int i = 9; i < 12; i++)
        {
            if (!char.IsAsciiDigit((char)line[i]))
            {
                return false;
            }

            status = (status * 10) + (line[i] - '0');
        }

        return status >= 100 && (line.Length == 12 || line[12] is (byte)' ' or (byte)'\r');
    }
}
