using Envoy.Config.Core.V3;
using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Proxy.EndToEnd.Tests.Mesh;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// Redirected connections and a management server's listeners, in a network namespace the test creates: iptables
/// REDIRECTs what a client sends to 10.77.0.2 to the proxy, and the original destination (SO_ORIGINAL_DST) decides.
/// The ADS server listens on a Unix socket (the namespace shares the file system, not loopback); the listeners'
/// chains answer with direct responses, so no upstream is needed inside the namespace.
/// </summary>
public sealed class XdsOriginalDstNamespaceTests
{
    private static string Config(string socket) => $$"""
        admin: { address: 127.0.0.1:15000 }
        xds:
          server: unix:{{socket}}
          node: { id: netns-original-dst, cluster: edge }
          resources: [ clusters, endpoints, listeners, routes ]
        """;

    internal static FilterChain Answer(string name, FilterChainMatch? match, string body)
    {
        var route = new Route { Match = new RouteMatch { Prefix = "/" }, DirectResponse = new DirectResponseAction { Status = 200, Body = new DataSource { InlineString = body } } };
        var chain = InlineHttpListener("x", 1, Routes(name + "-routes", route)).FilterChains[0];
        chain.Name = name;
        chain.FilterChainMatch = match;
        return chain;
    }

    internal static Listener Chained(string name, string address, int port, params FilterChain[] chains)
    {
        var listener = TcpListener(name, port, "unused");
        listener.Address.SocketAddress.Address = address;
        listener.FilterChains.Clear();
        listener.FilterChains.Add(chains);
        return listener;
    }

    [SkippableFact]
    public async Task OriginalDstListenerFilter_ChainsMatchOnTheDestinationBeforeTheRedirect()
    {
        var reason = NetnsTopology.SkipReason();
        Skip.If(reason is not null, reason);
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY")!;
        var dir = Directory.CreateTempSubdirectory("proxy-xds-odst-").FullName;
        try
        {
            await using var server = await ScriptedAdsServer.StartUnixAsync(Path.Combine(dir, "xds.sock"));
            using var net = new NetnsTopology();
            Must(NetnsTopology.Exec(net.Client, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", NetnsTopology.ServerAddress, "-j", "REDIRECT", "--to-ports", "15006"));
            File.WriteAllText(Path.Combine(dir, "proxy.yaml"), Config(Path.Combine(dir, "xds.sock")));
            net.Start(net.Client, binary, "run", "--config", Path.Combine(dir, "proxy.yaml"));

            var session = await server.NextSessionAsync(TimeSpan.FromSeconds(30));
            await session.NextRequestAsync(XdsTypeUrls.Listener);
            var inbound = Chained("virtualInbound", "0.0.0.0", 15006,
                Answer("8080", new FilterChainMatch { DestinationPort = 8080 }, "chain 8080"),
                Answer("9090", new FilterChainMatch { DestinationPort = 9090, PrefixRanges = { new CidrRange { AddressPrefix = NetnsTopology.ServerAddress, PrefixLen = 32 } } }, "chain 9090"));
            inbound.DefaultFilterChain = Answer("rest", null, "default chain");
            inbound.ListenerFilters.Add(new ListenerFilter { Name = "envoy.filters.listener.original_dst" });
            await session.SendAsync(XdsTypeUrls.Listener, "l1", inbound);
            Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");

            Assert.True(Eventually(() => Curl(net, 8080) == "chain 8080"), $"port 8080: {Curl(net, 8080)}");
            Assert.Equal("chain 9090", Curl(net, 9090));
            Assert.Equal("default chain", Curl(net, 7070));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public async Task VirtualOutbound_RedirectedConnections_GoToTheListenerOfTheirOriginalDestination()
    {
        var reason = NetnsTopology.SkipReason();
        Skip.If(reason is not null, reason);
        var binary = Environment.GetEnvironmentVariable("PROXY_BINARY")!;
        var dir = Directory.CreateTempSubdirectory("proxy-xds-vout-").FullName;
        try
        {
            await using var server = await ScriptedAdsServer.StartUnixAsync(Path.Combine(dir, "xds.sock"));
            using var net = new NetnsTopology();
            Must(NetnsTopology.Exec(net.Client, "iptables", "-t", "nat", "-A", "OUTPUT", "-p", "tcp", "-d", NetnsTopology.ServerAddress, "-j", "REDIRECT", "--to-ports", "15001"));
            File.WriteAllText(Path.Combine(dir, "proxy.yaml"), Config(Path.Combine(dir, "xds.sock")));
            net.Start(net.Client, binary, "run", "--config", Path.Combine(dir, "proxy.yaml"));

            var session = await server.NextSessionAsync(TimeSpan.FromSeconds(30));
            await session.NextRequestAsync(XdsTypeUrls.Listener);
            var outbound = Chained("virtualOutbound", "0.0.0.0", 15001, Answer("PassthroughCluster", null, "passthrough"));
            outbound.UseOriginalDst = true;
            var wildcard = Chained("0.0.0.0_8080", "0.0.0.0", 8080, Answer("8080", null, "outbound 8080"));
            wildcard.BindToPort = false;
            var exact = Chained("10.77.0.2_9090", NetnsTopology.ServerAddress, 9090, Answer("9090", null, "exact 9090"));
            exact.BindToPort = false;
            var wide = Chained("0.0.0.0_9090", "0.0.0.0", 9090, Answer("9090", null, "wildcard 9090"));
            wide.BindToPort = false;
            await session.SendAsync(XdsTypeUrls.Listener, "l1", outbound, wildcard, exact, wide);
            Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");

            Assert.True(Eventually(() => Curl(net, 8080) == "outbound 8080"), $"port 8080: {Curl(net, 8080)}");
            Assert.Equal("exact 9090", Curl(net, 9090)); // the exact address before 0.0.0.0
            Assert.Equal("passthrough", Curl(net, 7070)); // no listener: virtualOutbound's own chain
            var (_, dump) = NetnsTopology.Exec(net.Client, "curl", "-s", "-m", "5", "http://127.0.0.1:15000/config_dump");
            Assert.Contains("\"0.0.0.0_8080\"", dump);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    internal static string Curl(NetnsTopology net, int port, string address = NetnsTopology.ServerAddress)
    {
        var (code, body) = NetnsTopology.Exec(net.Client, "curl", "-s", "-m", "5", $"http://{address}:{port}/");
        return code == 0 ? body : $"curl exit {code}: {body}";
    }

    internal static bool Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 60; i++)
        {
            if (condition())
            {
                return true;
            }

            Thread.Sleep(500);
        }

        return false;
    }

    internal static void Must((int Code, string Output) result) =>
        Assert.True(result.Code == 0, result.Output);
}
