using Proxy.LoadTests.Scenarios;
using Proxy.LoadTests.Upstream;

namespace Proxy.LoadTests.Harness;

/// <summary>
/// A scenario's own world on loopback: N tiny upstream servers and a proxy in front of them with a
/// tcp (L4) and an http (L7) listener on free ports. Disposing kills the proxy and the upstreams.
/// </summary>
public sealed class ProxyFixture : IDisposable
{
    private readonly List<string> _endpoints;

    private ProxyFixture(List<TinyHttpServer> upstreams, List<string> endpoints, ProxyProcess proxy, int tcpPort, int httpPort)
    {
        Upstreams = upstreams;
        _endpoints = endpoints;
        Proxy = proxy;
        TcpPort = tcpPort;
        HttpPort = httpPort;
    }

    /// <summary>The upstream servers, in config order.</summary>
    public IReadOnlyList<TinyHttpServer> Upstreams { get; }

    /// <summary>The proxy process.</summary>
    public ProxyProcess Proxy { get; }

    /// <summary>The tcp listener's port.</summary>
    public int TcpPort { get; }

    /// <summary>The http listener's port.</summary>
    public int HttpPort { get; }

    /// <summary>A URL through the tcp (L4) listener.</summary>
    public Uri TcpUrl => new($"http://127.0.0.1:{TcpPort}/");

    /// <summary>A URL through the http (L7) listener.</summary>
    public Uri HttpUrl => new($"http://127.0.0.1:{HttpPort}/");

    /// <summary>Starts <paramref name="upstreamCount"/> upstreams and the proxy; throws <see cref="FixtureException"/> if it never gets ready.</summary>
    /// <param name="extraEndpoints">Addresses appended to the cluster without a server behind them (e.g. a dead port).</param>
    public static async Task<ProxyFixture> StartAsync(
        ScenarioContext context, string name, ProxyConfigOptions options, int upstreamCount = 3, IReadOnlyList<string>? extraEndpoints = null)
    {
        var upstreams = new List<TinyHttpServer>(upstreamCount);
        for (int i = 0; i < upstreamCount; i++)
        {
            upstreams.Add(new TinyHttpServer($"u{i}"));
        }

        int admin = FreePorts.Next(), tcp = FreePorts.Next(), http = FreePorts.Next();
        var endpoints = upstreams.ConvertAll(u => u.Address);
        endpoints.AddRange(extraEndpoints ?? []);
        string yaml = ProxyConfigBuilder.Build(admin, tcp, http, endpoints, options);
        var proxy = ProxyProcess.Start(context.ProxyBinary, Path.Combine(context.Directory(name), "proxy.yaml"), yaml, admin);
        var fixture = new ProxyFixture(upstreams, endpoints, proxy, tcp, http);
        if (!await proxy.WaitReadyAsync(TimeSpan.FromSeconds(15)).ConfigureAwait(false))
        {
            string tail = proxy.LogTail();
            fixture.Dispose();
            throw new FixtureException($"the proxy did not become ready (GET /ready != 200 within 15s); its output:\n{tail}");
        }

        return fixture;
    }

    /// <summary>The config text this fixture would run with <paramref name="options"/> (for reloads).</summary>
    public string ConfigText(ProxyConfigOptions options) =>
        ProxyConfigBuilder.Build(Proxy.AdminPort, TcpPort, HttpPort, _endpoints, options);

    /// <summary>Total requests answered by all upstreams.</summary>
    public long UpstreamRequests()
    {
        long sum = 0;
        foreach (var u in Upstreams)
        {
            sum += u.Requests;
        }

        return sum;
    }

    /// <summary>Kills the proxy (by PID) and stops the upstreams.</summary>
    public void Dispose()
    {
        Proxy.Dispose();
        foreach (var upstream in Upstreams)
        {
            upstream.Dispose();
        }
    }
}
