using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Observability.Metrics;
using Proxy.Runtime;
using Proxy.Transport;

namespace Proxy.Tests.Runtime;

/// <summary>
/// Filter chain choice over real loopback connections: what a client sends (a TLS ClientHello with SNI and ALPN, plain
/// HTTP, nothing at all) and where it connects decide the chain, by Envoy's order and specificity, and the chosen
/// chain still reads every byte.
/// </summary>
public sealed class FilterChainChoiceTests : IDisposable
{
    private readonly Socket _server = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<IDisposable> _owned = [];
    private readonly ProxyMetrics _metrics = new(new MetricsRegistry());

    public FilterChainChoiceTests()
    {
        _server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _server.Listen(8);
    }

    private int Port => ((IPEndPoint)_server.LocalEndPoint!).Port;

    private ListenerRuntime Chain(string name) =>
        new(new ListenerConfig { Name = name, Address = new HostPort("127.0.0.1", Port), Protocol = ListenerProtocol.Tcp }, null, new ListenerMetrics(_metrics, name), null);

    private ListenerRuntime Listener(ListenerConfig? config, ListenerRuntime? fallback, params (FilterChainMatchConfig Match, ListenerRuntime Chain)[] chains) =>
        new(config ?? new ListenerConfig { Name = "l", Address = new HostPort("127.0.0.1", Port) }, null, new ListenerMetrics(_metrics, "l"), null)
        {
            Chains = new FilterChainSelector([.. chains.Select(static c => c.Match)], [.. chains.Select(static c => c.Chain)], fallback),
        };

    /// <summary>Connects a client, accepts it, and chooses; returns the chosen chain, the accepted side and the client.</summary>
    private async Task<(ListenerRuntime? Chosen, SocketPipe Accepted, Socket Client)> ConnectAsync(ListenerRuntime listener, Func<Socket, Task> client)
    {
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _owned.Add(peer);
        await peer.ConnectAsync(_server.LocalEndPoint!);
        var accepted = await _server.AcceptAsync();
        var pipe = SocketPipe.Create(accepted, TransportOptions.Pipe, TransportOptions.Pipe);
        _owned.Add(pipe);
        var sending = client(peer);
        var chosen = await FilterChainChoice.ChooseAsync(listener, listener.Chains!, pipe.Input, accepted).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await sending.WaitAsync(TimeSpan.FromSeconds(30));
        return (chosen, pipe, peer);
    }

    /// <summary>Starts a TLS handshake with this SNI and ALPN; it never finishes (no one answers), the ClientHello is what counts.</summary>
    private static Func<Socket, Task> TlsClient(string sni, params string[] alpn) => socket =>
    {
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), false, static (_, _, _, _) => true);
        var options = new SslClientAuthenticationOptions { TargetHost = sni };
        if (alpn.Length > 0)
        {
            options.ApplicationProtocols = [.. alpn.Select(static a => new SslApplicationProtocol(a))];
        }

        _ = tls.AuthenticateAsClientAsync(options).ContinueWith(static t => t.Exception, TaskScheduler.Default);
        return Task.CompletedTask;
    };

    private static Func<Socket, Task> Sends(string text) => async socket => await socket.SendAsync(Encoding.ASCII.GetBytes(text));

    private static readonly Func<Socket, Task> Silent = static _ => Task.CompletedTask;

    [Fact]
    public async Task ServerNames_ExactBeatsWildcard_LongerWildcardBeatsShorter_NoSniTakesTheChainWithout()
    {
        var exact = Chain("exact");
        var deep = Chain("deep");
        var wide = Chain("wide");
        var none = Chain("none");
        var listener = Listener(null, null,
            (new FilterChainMatchConfig { ServerNames = ["*.example"] }, wide),
            (new FilterChainMatchConfig { ServerNames = ["*.b.example"] }, deep),
            (new FilterChainMatchConfig { ServerNames = ["a.b.example"] }, exact),
            (new FilterChainMatchConfig { TransportProtocol = "tls" }, none));

        Assert.Same(exact, (await ConnectAsync(listener, TlsClient("a.b.example"))).Chosen);
        Assert.Same(deep, (await ConnectAsync(listener, TlsClient("c.b.example"))).Chosen);
        Assert.Same(wide, (await ConnectAsync(listener, TlsClient("x.y.example"))).Chosen);
        Assert.Same(none, (await ConnectAsync(listener, TlsClient("other.test"))).Chosen); // no name matches: the chain without names
    }

    [Fact]
    public async Task TransportProtocol_TlsOrRaw_AndTheChosenChainReadsEveryByte()
    {
        var tls = Chain("tls");
        var raw = Chain("raw");
        var listener = Listener(null, null,
            (new FilterChainMatchConfig { TransportProtocol = "tls" }, tls),
            (new FilterChainMatchConfig { TransportProtocol = "raw_buffer" }, raw));

        Assert.Same(tls, (await ConnectAsync(listener, TlsClient("a.example"))).Chosen);

        var (chosen, accepted, _) = await ConnectAsync(listener, Sends("hello, plain world\r\n"));
        Assert.Same(raw, chosen);
        var read = await accepted.Input.ReadAsync();
        Assert.StartsWith("hello, plain world", Encoding.ASCII.GetString(read.Buffer.ToArray())); // peeked, not consumed
    }

    [Fact]
    public async Task ApplicationProtocols_FromTheClientHello_AndFromPlainHttp()
    {
        var h2 = Chain("h2");
        var http11 = Chain("http11");
        var h2c = Chain("h2c");
        var other = Chain("other");
        var listener = Listener(null, null,
            (new FilterChainMatchConfig { TransportProtocol = "tls", ApplicationProtocols = ["h2"] }, h2),
            (new FilterChainMatchConfig { TransportProtocol = "tls" }, other),
            (new FilterChainMatchConfig { TransportProtocol = "raw_buffer", ApplicationProtocols = ["http/1.1"] }, http11),
            (new FilterChainMatchConfig { TransportProtocol = "raw_buffer", ApplicationProtocols = ["h2c"] }, h2c));

        Assert.Same(h2, (await ConnectAsync(listener, TlsClient("a.example", "h2", "http/1.1"))).Chosen);
        Assert.Same(other, (await ConnectAsync(listener, TlsClient("a.example", "http/1.1"))).Chosen);
        Assert.Same(http11, (await ConnectAsync(listener, Sends("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))).Chosen);
        Assert.Same(h2c, (await ConnectAsync(listener, Sends("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"))).Chosen);
    }

    [Fact]
    public async Task DestinationPort_DecidesFirst_WithoutWaitingForBytes_AndIsNotRevisited()
    {
        var byPort = Chain("port");
        var bySni = Chain("sni");
        var fallback = Chain("default");
        var listener = Listener(null, fallback,
            (new FilterChainMatchConfig { DestinationPort = Port }, byPort),
            (new FilterChainMatchConfig { ServerNames = ["a.example"] }, bySni));

        // A server-first client sends nothing: the port alone decides, at once (the listener filters timeout is 15 s).
        var started = DateTime.UtcNow;
        Assert.Same(byPort, (await ConnectAsync(listener, Silent)).Chosen);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));

        // The port step keeps only the port chain; it has no server names, so SNI a.example does not reach 'sni'.
        Assert.Same(byPort, (await ConnectAsync(listener, TlsClient("a.example"))).Chosen);

        var otherPort = Listener(null, fallback,
            (new FilterChainMatchConfig { DestinationPort = Port + 1 }, byPort),
            (new FilterChainMatchConfig { ServerNames = ["a.example"] }, bySni));
        Assert.Same(bySni, (await ConnectAsync(otherPort, TlsClient("a.example"))).Chosen);
        Assert.Same(fallback, (await ConnectAsync(otherPort, TlsClient("b.example"))).Chosen);
    }

    [Fact]
    public async Task DestinationAddress_LongestPrefixWins_AndNoMatchWithoutDefaultCloses()
    {
        var wide = Chain("wide");
        var narrow = Chain("narrow");
        var listener = Listener(null, null,
            (new FilterChainMatchConfig { PrefixRanges = [IPNetwork.Parse("127.0.0.0/8")] }, wide),
            (new FilterChainMatchConfig { PrefixRanges = [IPNetwork.Parse("127.0.0.1/32")] }, narrow));
        Assert.Same(narrow, (await ConnectAsync(listener, Silent)).Chosen);

        var elsewhere = Listener(null, null, (new FilterChainMatchConfig { PrefixRanges = [IPNetwork.Parse("10.0.0.0/8")] }, wide));
        Assert.Null((await ConnectAsync(elsewhere, Silent)).Chosen);
    }

    [Fact]
    public async Task Source_TypeAndPorts()
    {
        var local = Chain("local");
        var external = Chain("external");
        var listener = Listener(null, null,
            (new FilterChainMatchConfig { SourceType = ConnectionSourceType.External }, external),
            (new FilterChainMatchConfig { SourceType = ConnectionSourceType.SameIpOrLoopback }, local));
        Assert.Same(local, (await ConnectAsync(listener, Silent)).Chosen);

        var (_, accepted, _) = await ConnectAsync(listener, Silent);
        var source = ((IPEndPoint)accepted.Socket.RemoteEndPoint!).Port;
        var byPort = Listener(null, null, (new FilterChainMatchConfig { SourcePorts = [source == 1 ? 2 : 1] }, external));
        Assert.Null((await ConnectAsync(byPort, Silent)).Chosen);
    }

    [Fact]
    public async Task FirstBytesThatDoNotCome_CloseWithinTheListenerFiltersTimeout_OrGoOnAsPlainText()
    {
        var tls = Chain("tls");
        var raw = Chain("raw");
        var config = new ListenerConfig { Name = "l", Address = new HostPort("127.0.0.1", Port), ListenerFiltersTimeout = TimeSpan.FromMilliseconds(200) };
        var closing = Listener(config, null,
            (new FilterChainMatchConfig { TransportProtocol = "tls" }, tls),
            (new FilterChainMatchConfig { TransportProtocol = "raw_buffer" }, raw));
        Assert.Null((await ConnectAsync(closing, Silent)).Chosen);

        var going = Listener(config with { ContinueOnListenerFiltersTimeout = true }, null,
            (new FilterChainMatchConfig { TransportProtocol = "tls" }, tls),
            (new FilterChainMatchConfig { TransportProtocol = "raw_buffer" }, raw));
        Assert.Same(raw, (await ConnectAsync(going, Silent)).Chosen);
    }

    [Fact]
    public async Task HandOff_ExactAddressFirst_ThenTheWildcardOfThePort_ElseTheAcceptingListener()
    {
        var accepting = Chain("virtualOutbound");
        var exact = Chain("exact");
        var wildcard = Chain("wildcard");
        ProxySnapshot Snapshot(params (IPEndPoint Address, ListenerRuntime Listener)[] listeners) =>
            new(new ProxyConfig(), new Dictionary<string, ListenerRuntime>(), new Dictionary<string, Proxy.Upstream.Cluster>(), 1)
            {
                ByAddress = listeners.ToDictionary(static l => l.Address, static l => l.Listener),
            };

        var (_, accepted, _) = await ConnectAsync(Listener(null, null, (FilterChainMatchConfig.Any, accepting)), Silent);
        var socket = accepted.Socket;
        var to = new IPEndPoint(IPAddress.Loopback, Port); // not redirected: the original destination is the accepted address

        var both = Snapshot((new IPEndPoint(IPAddress.Any, Port), accepting), (to, exact), (new IPEndPoint(IPAddress.Any, Port + 1), wildcard));
        Assert.Equal((exact, to), FilterChainChoice.HandOff(both, accepting, socket));

        var onlyWildcard = Snapshot((new IPEndPoint(IPAddress.Loopback, Port + 1), exact), (new IPEndPoint(IPAddress.Any, Port), wildcard));
        Assert.Equal((wildcard, to), FilterChainChoice.HandOff(onlyWildcard, accepting, socket));

        // Only the accepting listener holds the address (virtualOutbound on 0.0.0.0): it keeps the connection.
        var self = Snapshot((new IPEndPoint(IPAddress.Any, Port), accepting));
        Assert.Equal((accepting, to), FilterChainChoice.HandOff(self, accepting, socket));
    }

    public void Dispose()
    {
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }

        _server.Dispose();
    }
}
