using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Proxy.Configuration;
using Proxy.Tls;

namespace Proxy.Resilience;

/// <summary>
/// One active health probe over a real socket: a TCP connect, or an HTTP/1.1 GET whose status line decides. On a
/// cluster with <c>tls</c> the GET goes over TLS with the cluster's own policy (server verification, SNI, client
/// certificate), as the cluster's requests do: a plain-text probe to a TLS port would fail and mark every endpoint
/// unhealthy. Runs off the request path (on the health checker's timer), so it may allocate.
/// </summary>
public sealed class HealthProbe
{
    private const int MaxStatusLine = 1024;

    private readonly HealthCheckConfig _config;
    private readonly TlsClientPolicy? _tls;
    private readonly int[] _expected;

    /// <param name="config">What to probe and when it counts as healthy.</param>
    /// <param name="tls">The cluster's TLS policy; null for plain text.</param>
    public HealthProbe(HealthCheckConfig config, TlsClientPolicy? tls = null)
    {
        _config = config;
        _tls = tls;
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

        await using var network = new NetworkStream(socket, ownsSocket: false);
        Stream stream = network;
        SslStream? ssl = null;
        try
        {
            if (_tls is not null)
            {
                ssl = new SslStream(network, leaveInnerStreamOpen: true);
                SslClientAuthenticationOptions options = _tls.OptionsFor(TlsHandshake.HostOf(authority));
                options.ApplicationProtocols = [SslApplicationProtocol.Http11]; // the probe speaks HTTP/1.1 whatever the cluster's ALPN
                try
                {
                    await ssl.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException && TlsHandshake.IsHandshakeFailure(ex))
                {
                    return HealthProbeResult.ConnectFailed; // refused, or a certificate the cluster's policy does not accept
                }

                stream = ssl;
            }

            return await HttpCheckAsync(stream, authority, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthProbeResult.Timeout;
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return HealthProbeResult.BadResponse;
        }
        finally
        {
            if (ssl is not null)
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<HealthProbeResult> HttpCheckAsync(Stream stream, string authority, CancellationToken cancellationToken)
    {
        // RFC 9112 section 3: request line, Host, and close so the server ends the exchange.
        string request = $"GET {_config.Path ?? "/"} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: proxy-health-check\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);

        var buffer = new byte[MaxStatusLine];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
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
