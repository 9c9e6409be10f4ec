using System.ComponentModel;
using System.Security.Authentication;
using Pipelines.Sockets.Unofficial;
using Proxy.Transport;
using Proxy.Upstream;

namespace Proxy.Tls;

/// <summary>The upstream TLS handshake as the forwarders use it: null on failure (the socket is then disposed), never an exception.</summary>
public static class TlsHandshake
{
    /// <summary>Originates TLS on a connected socket to <paramref name="endpoint"/>, with SNI from the policy or the endpoint's host.</summary>
    public static async ValueTask<TlsConnection?> ConnectAsync(SocketPipe socket, TlsClientPolicy policy, Endpoint endpoint, TimeSpan timeout)
    {
        try
        {
            return await TlsConnection.ConnectAsync(socket, socket, policy, HostOf(endpoint.Authority), timeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsHandshakeFailure(ex))
        {
            socket.Dispose();
            if (endpoint.Events.ShouldLogFailure(endpoint, out var suppressed))
            {
                var reason = ex is TlsVerificationException refused ? refused.Reason : TlsFailureReason.Handshake(ex, timeout);
                endpoint.Events.ConnectFailed(endpoint, "TLS handshake", reason, suppressed);
            }

            return null;
        }
    }

    /// <summary>The exceptions a failed or timed-out handshake raises.</summary>
    public static bool IsHandshakeFailure(Exception ex) =>
        ex is AuthenticationException or IOException or OperationCanceledException or Win32Exception or ObjectDisposedException or InvalidOperationException
            or ConnectionResetException or ConnectionAbortedException;

    /// <summary>The host part of <c>host:port</c> or <c>[v6]:port</c>.</summary>
    public static string HostOf(string authority)
    {
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            return close > 0 ? authority[1..close] : authority;
        }

        var colon = authority.LastIndexOf(':');
        return colon > 0 ? authority[..colon] : authority;
    }
}
