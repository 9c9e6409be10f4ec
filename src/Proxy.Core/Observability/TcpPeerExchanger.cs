using System.IO.Pipelines;
using Proxy.Tls;

namespace Proxy.Observability;

/// <summary>
/// One side of <see cref="TcpPeerExchange"/> on a connection whose TLS agreed on it: writes this workload's frame,
/// then reads the peer's (at most <see cref="Timeout"/>), leaving every byte after it to the application. A peer
/// that sends something else is taken as sending no metadata, and its bytes are left as they came.
/// </summary>
public sealed class TcpPeerExchanger(WorkloadLabels local)
{
    /// <summary>How long the peer's frame is waited for: it is sent at once (or, by an Envoy, when ours arrives).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private static readonly byte[] AlpnBytes = System.Text.Encoding.ASCII.GetBytes(TcpPeerExchange.Alpn);

    private readonly byte[] _frame = TcpPeerExchange.Frame(local);

    /// <summary>True when the connection's TLS agreed on the exchange by ALPN.</summary>
    public static bool Negotiated(TlsConnection tls) => tls.NegotiatedProtocol.Protocol.Span.SequenceEqual(AlpnBytes);

    /// <summary>Sends this side's frame and reads the peer's; the peer's metadata as the HTTP header carries it, or empty.</summary>
    public async ValueTask<byte[]> ExchangeAsync(IDuplexPipe transport)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            var flushed = await transport.Output.WriteAsync(_frame, timeout.Token).ConfigureAwait(false);
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                return [];
            }

            while (true)
            {
                var result = await transport.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                switch (TcpPeerExchange.TryRead(buffer, out var consumed, out var metadata))
                {
                    case TcpPeerExchange.ReadResult.Read:
                        transport.Input.AdvanceTo(buffer.GetPosition(consumed));
                        return metadata;
                    case TcpPeerExchange.ReadResult.NeedMore when !result.IsCompleted:
                        transport.Input.AdvanceTo(buffer.Start, buffer.End);
                        continue;
                    default:
                        transport.Input.AdvanceTo(buffer.Start); // not a frame, or the peer ended first: all the app's
                        return [];
                }
            }
        }
        catch (OperationCanceledException)
        {
            return []; // no frame in time: the connection goes on, labelled from the certificate alone
        }
        catch (Exception ex) when (Transport.ConnectionErrors.IsConnectionLoss(ex))
        {
            return []; // the peer went away: the relay that follows sees the closed connection and ends
        }
    }
}
