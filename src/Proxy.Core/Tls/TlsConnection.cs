using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Proxy.Buffers;
using Proxy.Transport;

namespace Proxy.Tls;

/// <summary>
/// TLS over a duplex pipe, exposed as a duplex pipe: SslStream runs on the socket connection's
/// pipes (through <see cref="DuplexPipeStream"/>) and two pumps move plain text between it and the
/// pipes the forwarders use. Completing <see cref="Output"/> sends close_notify and then the TCP FIN,
/// so half-close carries through; the peer's close_notify or FIN completes <see cref="Input"/>.
/// </summary>
public sealed class TlsConnection : IDuplexPipe, IDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly IDisposable _owner;
    private readonly VerifyingSslStream _ssl;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound = new(TransportOptions.Pipe);
    private Task _sending = Task.CompletedTask;
    private int _disposed;

    private TlsConnection(IDuplexPipe transport, IDisposable owner, PipeOptions inbound)
    {
        _inbound = new Pipe(inbound);
        _transport = transport;
        _owner = owner;
        _ssl = new VerifyingSslStream(new DuplexPipeStream(transport), leaveInnerStreamOpen: true);
    }

    /// <summary>Plain text from the peer.</summary>
    public PipeReader Input => _inbound.Reader;

    /// <summary>Plain text to the peer.</summary>
    public PipeWriter Output => _outbound.Writer;

    /// <summary>The ALPN protocol agreed (empty when none).</summary>
    public SslApplicationProtocol NegotiatedProtocol => _ssl.NegotiatedApplicationProtocol;

    /// <summary>TLS version in use.</summary>
    public SslProtocols Protocol => _ssl.SslProtocol;

    /// <summary>The server name the client asked for (server side; null without SNI).</summary>
    public string? ServerName { get; private set; }

    /// <summary>The certificate the peer presented, if any.</summary>
    public X509Certificate2? PeerCertificate => _ssl.RemoteCertificate as X509Certificate2;

    /// <summary>The peer's SPIFFE identity, or why there is none.</summary>
    public PeerIdentity PeerIdentity { get; private set; } = PeerIdentity.None(NoTlsReason.NoClientCertificate);

    /// <summary>Completes once everything written to <see cref="Output"/> has been encrypted and handed to the socket.</summary>
    public Task SendCompleted => _sending;

    /// <summary>
    /// Runs the server handshake on <paramref name="transport"/>; throws <see cref="AuthenticationException"/>
    /// or <see cref="IOException"/> when it fails, and <see cref="OperationCanceledException"/> on timeout.
    /// <paramref name="owner"/> (the socket connection) is disposed with the TLS connection.
    /// </summary>
    /// <param name="offeredAlpn">The ALPN protocols of the client's ClientHello when it was read before (to choose a filter chain): when the policy accepts none of them, the handshake goes on without ALPN, as Envoy's does.</param>
    public static async Task<TlsConnection> AcceptAsync(IDuplexPipe transport, IDisposable owner, TlsServerPolicy policy, TimeSpan timeout, IReadOnlyList<string>? offeredAlpn = null)
    {
        var connection = new TlsConnection(transport, owner, TransportOptions.Pipe);
        try
        {
            using var deadline = new CancellationTokenSource(timeout);
            var select = policy.AcceptsNoneOf(offeredAlpn) ? TlsServerPolicy.SelectOptionsWithoutAlpn : TlsServerPolicy.SelectOptions;
            await connection._ssl.AuthenticateAsServerAsync(select, policy, deadline.Token).ConfigureAwait(false);
            connection.ServerName = connection._ssl.TargetHostName;
            connection.Start();
            return connection;
        }
        catch
        {
            connection._ssl.Dispose();
            throw;
        }
    }

    /// <summary>Runs the client handshake to <paramref name="host"/> (SNI unless the policy names one).</summary>
    public static async Task<TlsConnection> ConnectAsync(IDuplexPipe transport, IDisposable owner, TlsClientPolicy policy, string host, TimeSpan timeout)
    {
        // Plain text from an upstream pauses its reads early, as the socket does (TransportOptions.UpstreamPauseReadThreshold).
        var connection = new TlsConnection(transport, owner, TransportOptions.UpstreamReceivePipe);
        try
        {
            using var deadline = new CancellationTokenSource(timeout);
            await connection._ssl.AuthenticateAsClientAsync(policy.OptionsFor(host), deadline.Token).ConfigureAwait(false);
            connection.Start();
            return connection;
        }
        catch (Exception ex) when (connection._ssl.VerificationFailure is { } reason)
        {
            // The policy refused the server's certificate: say why (the runtime's exception does not).
            connection._ssl.Dispose();
            throw new TlsVerificationException(reason, ex);
        }
        catch
        {
            connection._ssl.Dispose();
            throw;
        }
    }

    private void Start()
    {
        if (PeerCertificate is { } peer)
        {
            PeerIdentity = SpiffeId.FromCertificate(peer) is { } id ? PeerIdentity.Authenticated(id) : PeerIdentity.None(NoTlsReason.NoSpiffeId);
        }

        _ = ReceiveAsync();
        _sending = SendAsync();
    }

    private async Task ReceiveAsync()
    {
        var writer = _inbound.Writer;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(BlockMemoryPool.BlockSize);
                var read = await _ssl.ReadAsync(memory).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                writer.Advance(read);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or AuthenticationException or InvalidOperationException or OperationCanceledException)
        {
            failure = ex is IOException ? ex : new IOException("TLS receive failed", ex);
        }

        await writer.CompleteAsync(failure).ConfigureAwait(false);
    }

    private async Task SendAsync()
    {
        var reader = _outbound.Reader;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                foreach (var segment in result.Buffer)
                {
                    await _ssl.WriteAsync(segment).ConfigureAwait(false);
                }

                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            // RFC 8446, 6.1: close_notify before the transport's FIN, so truncation is detectable.
            await _ssl.ShutdownAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or AuthenticationException or InvalidOperationException or OperationCanceledException)
        {
            failure = ex;
        }

        await reader.CompleteAsync(failure).ConfigureAwait(false);
        await _transport.Output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The orderly end: completes <see cref="Output"/> (close_notify, then FIN) and waits up to
    /// <paramref name="timeout"/> for it to reach the socket. The underlying connection stays for
    /// its owner to drain and dispose.
    /// </summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        if (!_sending.IsCompleted)
        {
            // WaitAsync drops its timer as soon as sending ends (no timer left per closed connection).
            await Task.WhenAny(_sending.WaitAsync(timeout)).ConfigureAwait(false);
        }

        _ssl.Dispose();
    }

    /// <summary>Closes TLS and the underlying connection at once (abort; use <see cref="Output"/> completion for an orderly close).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _owner.Dispose();
        _ssl.Dispose(); // the pumps see the closed socket and complete both pipes
    }
}
