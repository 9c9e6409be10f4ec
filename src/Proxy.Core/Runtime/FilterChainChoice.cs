using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Proxy.Detection;

namespace Proxy.Runtime;

/// <summary>
/// Chooses the filter chain of one accepted connection: its addresses first, then, only when the chains left differ
/// by TLS, server name or ALPN, its first bytes, peeked (nothing consumed: the chosen chain reads the whole stream)
/// within the listener's <c>listener_filters_timeout</c> (the work Envoy's tls_inspector and http_inspector do).
/// </summary>
public static class FilterChainChoice
{
    /// <summary>
    /// The listener that serves a connection accepted by <paramref name="accepting"/>: after the use_original_dst
    /// hand-off, the chosen filter chain of the listener it went to; null to close it (counted). With it, the
    /// destination the choice was made on (the original one behind interception), when one was read, and the ALPN
    /// protocols of the ClientHello when its first bytes were read (for the chain's TLS handshake).
    /// </summary>
    public static async ValueTask<(ListenerRuntime? Listener, IPEndPoint? Destination, IReadOnlyList<string>? OfferedAlpn)> ResolveAsync(ProxySnapshot snapshot, ListenerRuntime accepting, PipeReader input, Socket socket)
    {
        var (listener, destination) = accepting.Config.UseOriginalDestination ? HandOff(snapshot, accepting, socket) : (accepting, null);
        if (listener.Chains is not { } chains)
        {
            return (listener, destination, null);
        }

        listener.Metrics.Opened.Increment();
        try
        {
            destination ??= Destination(listener.Config, socket);
            var (chosen, facts) = await ChooseWithFactsAsync(listener, chains, input, socket, destination).ConfigureAwait(false);
            if (chosen is not null)
            {
                return (chosen, destination, facts.TransportProtocol == "tls" ? facts.ApplicationProtocols : null);
            }

            listener.Metrics.NoFilterChain.Increment();
            return (null, destination, null);
        }
        finally
        {
            listener.Metrics.Closed.Increment(); // handed on to the chain (which counts it again) or closed
        }
    }

    /// <summary>The chain to serve the connection with, or null to close it (no chain matched and no default, or the first bytes did not come in time).</summary>
    /// <param name="destination">The original destination a use_original_dst listener handed the connection over for; null to read it here.</param>
    public static async ValueTask<ListenerRuntime?> ChooseAsync(ListenerRuntime listener, FilterChainSelector selector, PipeReader input, Socket socket, IPEndPoint? destination = null) =>
        (await ChooseWithFactsAsync(listener, selector, input, socket, destination).ConfigureAwait(false)).Chosen;

    private static async ValueTask<(ListenerRuntime? Chosen, ConnectionFacts Facts)> ChooseWithFactsAsync(ListenerRuntime listener, FilterChainSelector selector, PipeReader input, Socket socket, IPEndPoint? destination)
    {
        var facts = new ConnectionFacts(destination ?? Destination(listener.Config, socket), socket.RemoteEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.IPv6None, 0));
        if (selector.NeedsInspection(facts.Destination, facts.Source))
        {
            var config = listener.Config;
            var timeout = config.ListenerFiltersTimeout > TimeSpan.Zero ? config.ListenerFiltersTimeout : Timeout.InfiniteTimeSpan;
            var detected = await ProtocolDetector.DetectAsync(input, timeout).ConfigureAwait(false);
            if (detected is { Protocol: DetectedProtocol.Opaque, Reason: OpaqueReason.Timeout } && !config.ContinueOnListenerFiltersTimeout)
            {
                return (null, facts); // Envoy closes a connection whose listener filters time out, unless told to go on
            }

            facts = With(facts, detected);
        }

        return (selector.Select(facts), facts);
    }

    /// <summary>What tls_inspector and http_inspector would have found in <paramref name="detected"/>.</summary>
    public static ConnectionFacts With(ConnectionFacts facts, DetectionResult detected) => detected.Protocol switch
    {
        DetectedProtocol.Tls => facts with { TransportProtocol = "tls", ServerName = detected.ServerName, ApplicationProtocols = detected.Alpn ?? [] },
        DetectedProtocol.Http1 => facts with { TransportProtocol = "raw_buffer", ApplicationProtocols = Http11 },
        DetectedProtocol.Http2 => facts with { TransportProtocol = "raw_buffer", ApplicationProtocols = H2c },
        _ => facts with { TransportProtocol = "raw_buffer" },
    };

    private static readonly string[] Http11 = ["http/1.1"];
    private static readonly string[] H2c = ["h2c"];

    /// <summary>
    /// Envoy's <c>use_original_dst</c> hand-off: the listener whose address is the connection's original destination
    /// (SO_ORIGINAL_DST; the accepted address when it was not redirected), exactly, else the wildcard listener of that
    /// port (<c>0.0.0.0</c> or <c>::</c>); none (or only <paramref name="accepting"/> itself): the accepting listener.
    /// Returns the listener and the destination its chains match on.
    /// </summary>
    public static (ListenerRuntime Listener, IPEndPoint? Destination) HandOff(ProxySnapshot snapshot, ListenerRuntime accepting, Socket socket)
    {
        var local = socket.LocalEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.IPv6None, 0);
        var original = Interception.OriginalDestination.TryGet(socket) ?? local;
        if (original.Address.IsIPv4MappedToIPv6)
        {
            original = new IPEndPoint(original.Address.MapToIPv4(), original.Port);
        }

        var any = original.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        if (snapshot.ByAddress.TryGetValue(original, out var exact) && exact != accepting)
        {
            return (exact, original);
        }

        if (snapshot.ByAddress.TryGetValue(new IPEndPoint(any, original.Port), out var wildcard) && wildcard != accepting)
        {
            return (wildcard, original);
        }

        return (accepting, original);
    }

    /// <summary>
    /// Where the connection was going: behind an original_dst listener filter, the address before iptables redirected
    /// it (a connection that was not redirected keeps the listener's own, as in Envoy); else the accepted address.
    /// </summary>
    public static IPEndPoint Destination(Configuration.ListenerConfig listener, Socket socket)
    {
        var local = socket.LocalEndPoint as IPEndPoint ?? new IPEndPoint(IPAddress.IPv6None, 0);
        return listener.OriginalDestination && Interception.OriginalDestination.TryGet(socket) is { } original ? original : local;
    }
}
