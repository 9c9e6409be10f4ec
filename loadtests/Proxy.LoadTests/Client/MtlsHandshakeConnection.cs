using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.LoadTests.Client;

/// <summary>
/// Each request is a whole new mTLS connection: TCP connect, TLS handshake with a client
/// certificate, one GET, close. Driving these in a loop is a handshake storm.
/// </summary>
public sealed class MtlsHandshakeConnection(IPEndPoint endPoint, TestCertificates certificates, byte[] request) : ILoadConnection
{
    /// <summary>The last failure's message, for reports.</summary>
    public string? LastError { get; private set; }

    /// <inheritdoc />
    public async ValueTask<RequestResult> SendAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        bool sent = false;
        try
        {
            await socket.ConnectAsync(endPoint, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            LastError = e.Message;
            return new RequestResult(RequestOutcome.ConnectFailed, 0, Sent: false);
        }

        try
        {
            await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = "127.0.0.1",
                ClientCertificates = [certificates.Client],
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is X509Certificate2 c && certificates.ValidateServer(c),
            };
            await tls.AuthenticateAsClientAsync(options, cts.Token).ConfigureAwait(false);
            await tls.WriteAsync(request, cts.Token).ConfigureAwait(false);
            sent = true;

            var buffer = new byte[16 * 1024];
            int have = 0;
            while (true)
            {
                int n = await tls.ReadAsync(buffer.AsMemory(have), cts.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return new RequestResult(RequestOutcome.ConnectionClosed, 0, sent);
                }

                have += n;
                var status = Http1ResponseParser.TryParseHead(buffer.AsSpan(0, have), out var head);
                if (status == ParseStatus.Invalid || (status == ParseStatus.NeedMore && have == buffer.Length))
                {
                    return new RequestResult(RequestOutcome.ProtocolError, 0, sent);
                }

                if (status == ParseStatus.Done && (head.HasNoBody || head.ContentLength <= have - head.Length))
                {
                    return RequestResult.FromStatus(head.Status);
                }
            }
        }
        catch (OperationCanceledException)
        {
            LastError = "timed out";
            return new RequestResult(RequestOutcome.Timeout, 0, sent);
        }
        catch (AuthenticationException e)
        {
            LastError = e.Message;
            return new RequestResult(RequestOutcome.ProtocolError, 0, sent);
        }
        catch (IOException e)
        {
            LastError = e.Message;
            return new RequestResult(RequestOutcome.ConnectionReset, 0, sent);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Every request owns and closes its own socket.
    }
}
