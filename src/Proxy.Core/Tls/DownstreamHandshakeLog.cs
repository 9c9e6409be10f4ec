using System.Net;
using System.Security.Authentication;
using Proxy.Observability;
using Proxy.Transport;

namespace Proxy.Tls;

/// <summary>
/// Says why a client's TLS handshake failed, on a listener or the mesh inbound side: a warning naming the listener,
/// the client's address and the reason, at most a few lines per window (a scanner or a misconfigured fleet must not
/// flood the log; the lines left out are counted on the next one). The failures are counted in
/// <c>proxy_tls_handshake_failures_total</c> (or the mesh's denied counter) either way.
/// </summary>
public sealed class DownstreamHandshakeLog(Logger log)
{
    private const int Lines = 5;
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    private readonly LogRateLimit _limit = new(Lines, Window);
    private readonly Lock _gate = new();

    public void Failed(string listener, EndPoint? client, Exception ex)
    {
        if (!log.IsEnabled(LogLevel.Warn))
        {
            return;
        }

        int suppressed;
        lock (_gate)
        {
            if (!_limit.TryAcquire(Environment.TickCount64, out suppressed))
            {
                return;
            }
        }

        log.Warn("TLS handshake from a client failed", ("listener", listener), ("client", client?.ToString() ?? "unknown"), ("reason", Reason(ex)), ("suppressed", suppressed));
    }

    /// <summary>The reason, as a sentence an operator can act on.</summary>
    public static string Reason(Exception ex) => ex switch
    {
        TlsVerificationException refused => refused.Reason,
        OperationCanceledException => $"the client did not finish the handshake within {TlsDefaults.HandshakeTimeout.TotalSeconds:0} s",
        AuthenticationException =>
            "the client sent an alert, offered no TLS version, cipher or ALPN protocol in common, or sent no trusted client certificate where one is required",
        _ when ConnectionErrors.IsConnectionLoss(ex) => "the client closed the connection during the handshake (a plain-text client on a TLS port, a health check, or a refused certificate)",
        _ => "the handshake failed",
    };
}
