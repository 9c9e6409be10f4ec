using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Envoy.Config.Listener.V3;
using Envoy.Config.Rbac.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsListenerResources;
using static Proxy.EndToEnd.Tests.Xds.XdsRbacResources;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary runs the HTTP filters and the network RBAC a management server configures, as istiod sends
/// them for AuthorizationPolicies: on a mutual-TLS inbound chain an allowed principal gets 200 and another 403
/// "RBAC: access denied", a DENY on a path refuses it; a network RBAC closes a denied tcp_proxy connection before
/// it reaches the upstream; a fault abort and a local rate limit from xDS answer 503 and 429.
/// </summary>
public sealed class XdsRbacBinaryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-xds-rbac-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("xds rbac CA", TimeSpan.FromDays(1));

    public XdsRbacBinaryTests() => _ca.Save(Path.Combine(_dir, "ca"));

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (string Cert, string Key) Issue(string name, string spiffeId)
    {
        using var workload = _ca.Issue(SpiffeId.Parse(spiffeId), TimeSpan.FromHours(1), []);
        workload.Save(Path.Combine(_dir, name));
        return (Path.Combine(_dir, name, "cert.pem"), Path.Combine(_dir, name, "key.pem"));
    }

    private static X509Certificate2 Client((string Cert, string Key) files)
    {
        using var pem = X509Certificate2.CreateFromPemFile(files.Cert, files.Key);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private static HttpClient MtlsClient(X509Certificate2 certificate) => new(new SocketsHttpHandler
    {
        SslOptions = new System.Net.Security.SslClientAuthenticationOptions
        {
            ClientCertificates = [certificate],
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        },
    });

    private static async Task<(int Status, string Body)> GetAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<BinaryProxy> StartAsync(ScriptedAdsServer ads, int adminPort) => await BinaryProxy.StartAsync($$"""
        admin: { address: 127.0.0.1:{{adminPort}} }
        xds:
          server: {{ads.Address}}
          node: { id: rbac }
          resources: [ clusters, endpoints, listeners, routes ]
        """, adminPort);

    private static Listener HttpWith(string name, int port, params HttpFilter[] filters)
    {
        var manager = new HttpConnectionManager { RouteConfig = Routes("inline", Prefix("/", "app")) };
        manager.HttpFilters.Add(filters);
        return Listener(name, port, Hcm(manager));
    }

    [SkippableFact]
    public async Task MtlsInboundChain_HttpRbac_AllowsThePrincipalsOfANamespace_DeniesOthersAndAPath_403()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        var ca = File.ReadAllText(Path.Combine(_dir, "ca", "ca.pem"));
        var server = Issue("inbound", "spiffe://cluster.local/ns/shop/sa/inbound");
        using var frontend = Client(Issue("frontend", "spiffe://cluster.local/ns/shop/sa/frontend"));
        using var intruder = Client(Issue("intruder", "spiffe://cluster.local/ns/other/sa/intruder"));
        await using var app = await KestrelUpstream.StartAsync("app");
        await using var ads = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), port = TcpClientHelpers.UnusedPort();
        using var proxy = await StartAsync(ads, adminPort);

        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1", XdsResources.StaticCluster("app", app.Address));
        // What istiod sends for a DENY policy on /admin and an ALLOW policy from namespace shop, in that order.
        var listener = HttpWith("inbound", port,
            HttpRbacFilter(Rules(RBAC.Types.Action.Deny, ("ns[shop]-policy[no-admin]-rule[0]", Grant(new Permission { UrlPath = new Envoy.Type.Matcher.V3.PathMatcher { Path = new Envoy.Type.Matcher.V3.StringMatcher { Prefix = "/admin" } } }, AnyPrincipal)))),
            HttpRbacFilter(Rules(RBAC.Types.Action.Allow, ("ns[shop]-policy[from-shop]-rule[0]", Grant(AnyPermission, Namespace("shop"))))));
        var tls = XdsDownstreamTlsBinaryTests.IstioInbound("spiffe://cluster.local/");
        tls.CommonTlsContext.AlpnProtocols.Clear();
        tls.CommonTlsContext.AlpnProtocols.Add("http/1.1");
        listener.FilterChains[0].TransportSocket = new Envoy.Config.Core.V3.TransportSocket { Name = "envoy.transport_sockets.tls", TypedConfig = Any.Pack(tls) };
        await session.SendAsync(XdsTypeUrls.Listener, "l1", listener);
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");
        await session.NextRequestAsync(XdsTypeUrls.Secret);
        await session.SendAsync(XdsTypeUrls.Secret, "s1", CertificateSecret("default", File.ReadAllText(server.Cert), File.ReadAllText(server.Key)), CaSecret("ROOTCA", ca));
        await session.NextRequestAsync(XdsTypeUrls.Secret);

        using var allowed = MtlsClient(frontend);
        using var denied = MtlsClient(intruder);
        var url = $"https://127.0.0.1:{port}";
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                return (await GetAsync(allowed, url + "/hello")).Status == 200;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }));

        Assert.Equal((200, "hello from app"), await GetAsync(allowed, url + "/hello"));
        Assert.Equal((403, "RBAC: access denied"), await GetAsync(denied, url + "/hello"));
        Assert.Equal((403, "RBAC: access denied"), await GetAsync(allowed, url + "/admin/users"));
        Assert.Equal((403, "RBAC: access denied"), await GetAsync(allowed, url + "/public/../admin/users"));
        Assert.Equal(3, await proxy.MetricAsync("proxy_rbac_denied_total{listener=\"inbound\",kind=\"http\"}"));
    }

    [SkippableFact]
    public async Task TcpProxyChain_NetworkRbac_ClosesADeniedConnection_BeforeTheUpstream_ThenAllowsWhenTheRuleChanges()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var app = TcpUpstream.Named("db");
        await using var ads = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), port = TcpClientHelpers.UnusedPort();
        using var proxy = await StartAsync(ads, adminPort);

        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1", XdsResources.StaticCluster("db", app.Address));
        Listener Guarded(string cidr)
        {
            var listener = TcpListener("tcp", port, "db");
            var from = new Principal { RemoteIp = new Envoy.Config.Core.V3.CidrRange { AddressPrefix = cidr, PrefixLen = 8 } };
            listener.FilterChains[0].Filters.Insert(0, NetworkRbacFilter(Rules(RBAC.Types.Action.Allow, ("ns[db]-policy[clients]-rule[0]", Grant(new Permission { DestinationPort = (uint)port }, from)))));
            return listener;
        }

        await session.SendAsync(XdsTypeUrls.Listener, "l1", Guarded("10.0.0.0"));
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");

        // Loopback is not in 10.0.0.0/8: the connection is accepted, then closed without a byte, and the upstream never sees it.
        Assert.True(await TcpClientHelpers.EventuallyAsync(() => ClosedAsync(port)));
        Assert.True(await ClosedAsync(port));
        Assert.Equal(0, app.Accepted);
        Assert.True(await proxy.MetricAsync("proxy_rbac_denied_total{listener=\"tcp\",kind=\"network\"}") >= 2);

        await session.SendAsync(XdsTypeUrls.Listener, "l2", Guarded("127.0.0.0"));
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () => await ReadGreetingAsync(port) == "db"));
    }

    /// <summary>True when the proxy accepts a fresh connection and ends it without sending a byte.</summary>
    private static async Task<bool> ClosedAsync(int port) => await ReadGreetingAsync(port) == "";

    /// <summary>The first line the upstream greets with through the proxy; "" when the proxy closed the connection, null when nothing listens.</summary>
    private static async Task<string?> ReadGreetingAsync(int port)
    {
        try
        {
            Socket socket;
            try
            {
                socket = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
            }
            catch (SocketException)
            {
                return null;
            }

            using var owned = socket;
            var buffer = new byte[64];
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
            return System.Text.Encoding.ASCII.GetString(buffer, 0, read).Trim();
        }
        catch (SocketException)
        {
            return "";
        }
    }

    [SkippableFact]
    public async Task FaultAbort_AndLocalRateLimit_FromXds_Answer503And429()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        await using var app = await KestrelUpstream.StartAsync("app");
        await using var ads = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), faultPort = TcpClientHelpers.UnusedPort(), limitPort = TcpClientHelpers.UnusedPort();
        using var proxy = await StartAsync(ads, adminPort);

        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1", XdsResources.StaticCluster("app", app.Address));
        await session.SendAsync(XdsTypeUrls.Listener, "l1",
            HttpWith("faulty", faultPort, FaultAbort(503, 100)),
            HttpWith("limited", limitPort, LocalRateLimit(3, 1, TimeSpan.FromSeconds(1))));
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");

        using var client = new HttpClient();
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                using var probe = await client.GetAsync($"http://127.0.0.1:{faultPort}/");
                return true;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }));

        using (var aborted = await client.GetAsync($"http://127.0.0.1:{faultPort}/hello"))
        {
            Assert.Equal(503, (int)aborted.StatusCode);
            Assert.Equal("fault-injected", aborted.Headers.GetValues("x-proxy-error").Single());
        }

        // A bucket of 3 refilled at 1 a second: a burst of 6 gets at most 4 through (one may refill meanwhile), then 429.
        var statuses = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            using var response = await client.GetAsync($"http://127.0.0.1:{limitPort}/hello");
            statuses.Add((int)response.StatusCode);
        }

        Assert.Equal(200, statuses[0]);
        Assert.InRange(statuses.Count(static s => s == 200), 3, 4);
        Assert.Equal(429, statuses[^1]);
        Assert.True(await proxy.MetricAsync("proxy_rate_limited_total{listener=\"limited\",route=\"-\"}") >= 2);
    }
}
