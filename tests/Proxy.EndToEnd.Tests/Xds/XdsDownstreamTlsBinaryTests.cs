using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Envoy.Config.Listener.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.EndToEnd.Tests.Support;
using Proxy.Tls;
using Proxy.Xds;
using static Proxy.EndToEnd.Tests.Xds.XdsTlsResources;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// The published binary terminates mutual TLS on a management server's listener chain, as Istio's inbound chains
/// do: its certificate (<c>default</c>) and the CA client certificates must chain to (<c>ROOTCA</c>) come over SDS on
/// the ADS stream, the listener waits for them, a client certificate is required and must carry a matching URI SAN,
/// and a rotated certificate reaches new handshakes while an open connection keeps going.
/// </summary>
public sealed class XdsDownstreamTlsBinaryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proxy-xds-dtls-").FullName;
    private readonly CertificateAuthority _ca = CertificateAuthority.Create("xds downstream CA", TimeSpan.FromDays(1));

    public XdsDownstreamTlsBinaryTests() => _ca.Save(Path.Combine(_dir, "ca"));

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private (string Cert, string Key) Issue(string name)
    {
        using var workload = _ca.Issue(SpiffeId.Parse($"spiffe://e2e.test/{name}"), TimeSpan.FromHours(1), []);
        workload.Save(Path.Combine(_dir, name));
        return (Path.Combine(_dir, name, "cert.pem"), Path.Combine(_dir, name, "key.pem"));
    }

    /// <summary>Istio's inbound TLS context: default and ROOTCA over SDS, client certificates required, a URI SAN matcher.</summary>
    internal static DownstreamTlsContext IstioInbound(string sanPrefix)
    {
        var common = new CommonTlsContext
        {
            TlsCertificateSdsSecretConfigs = { new SdsSecretConfig { Name = "default", SdsConfig = Ads() } },
            CombinedValidationContext = new CommonTlsContext.Types.CombinedCertificateValidationContext
            {
                DefaultValidationContext = new CertificateValidationContext
                {
                    MatchTypedSubjectAltNames = { new SubjectAltNameMatcher { SanType = SubjectAltNameMatcher.Types.SanType.Uri, Matcher = new Envoy.Type.Matcher.V3.StringMatcher { Prefix = sanPrefix } } },
                },
                ValidationContextSdsSecretConfig = new SdsSecretConfig { Name = "ROOTCA", SdsConfig = Ads() },
            },
            AlpnProtocols = { "istio", "app" },
            TlsParams = new TlsParameters { TlsMinimumProtocolVersion = TlsParameters.Types.TlsProtocol.Tlsv12 },
        };
        return new DownstreamTlsContext { CommonTlsContext = common, RequireClientCertificate = true };
    }

    internal static async Task<(SslStream Tls, X509Certificate2 Server)> ConnectAsync(int port, X509Certificate2? client)
    {
        var socket = await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), false, static (_, _, _, _) => true);
        var options = new SslClientAuthenticationOptions { TargetHost = "inbound.test", ApplicationProtocols = [new SslApplicationProtocol("app")] };
        if (client is not null)
        {
            options.ClientCertificates = [client];
        }

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tls.AuthenticateAsClientAsync(options, deadline.Token);
        return (tls, X509CertificateLoader.LoadCertificate(tls.RemoteCertificate!.GetRawCertData()));
    }

    internal static async Task<string> ReadLineAsync(Stream stream)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await stream.ReadAsync(one, deadline.Token) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }

        return line.ToString();
    }

    /// <summary>A handshake that the proxy refuses: the handshake or the first read fails, or the stream ends.</summary>
    private static async Task<bool> RefusedAsync(int port, X509Certificate2? client)
    {
        try
        {
            var (tls, _) = await ConnectAsync(port, client);
            await using (tls)
            {
                // TLS 1.3 lets the client finish before the server has checked its certificate: the refusal comes next.
                return await ReadLineAsync(tls) == "";
            }
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException or SocketException)
        {
            return true;
        }
    }

    internal static X509Certificate2 Client((string Cert, string Key) files)
    {
        using var pem = X509Certificate2.CreateFromPemFile(files.Cert, files.Key);
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    [SkippableFact]
    public async Task MutualTlsChain_CertificatesOverSds_ClientCertificateRequiredAndMatched_RotationKeepsOpenConnections()
    {
        Skip.If(BinaryProxy.Path is null, "PROXY_BINARY not set: run the README test command to publish the AOT binary first");
        var ca = File.ReadAllText(Path.Combine(_dir, "ca", "ca.pem"));
        var serverOne = Issue("inbound-one");
        var serverTwo = Issue("inbound-two");
        using var client = Client(Issue("client-web"));
        using var intruder = Client(Issue("intruder"));
        await using var app = TcpUpstream.Named("app");
        await using var ads = await ScriptedAdsServer.StartAsync();
        int adminPort = TcpClientHelpers.UnusedPort(), port = TcpClientHelpers.UnusedPort();
        using var proxy = await BinaryProxy.StartAsync($$"""
            admin: { address: 127.0.0.1:{{adminPort}} }
            xds:
              server: {{ads.Address}}
              node: { id: downstream-tls }
              resources: [ clusters, endpoints, listeners, routes ]
            """, adminPort);

        var session = await ads.NextSessionAsync();
        await session.NextRequestAsync(XdsTypeUrls.Listener);
        await session.SendClustersAsync("c1", XdsResources.StaticCluster("app", app.Address));
        var listener = XdsListenerResources.TcpListener("inbound", port, "app");
        listener.FilterChains[0].FilterChainMatch = new FilterChainMatch { TransportProtocol = "tls" };
        listener.FilterChains[0].TransportSocket = new Envoy.Config.Core.V3.TransportSocket { Name = "envoy.transport_sockets.tls", TypedConfig = Any.Pack(IstioInbound("spiffe://e2e.test/client-")) };
        await session.SendAsync(XdsTypeUrls.Listener, "l1", listener);
        Assert.Equal("", (await session.NextRequestAsync(XdsTypeUrls.Listener)).ErrorDetail?.Message ?? "");
        Assert.Equal(["ROOTCA", "default"], (await session.NextRequestAsync(XdsTypeUrls.Secret)).ResourceNames);

        // Warming: not bound until its secrets arrive.
        await Assert.ThrowsAnyAsync<SocketException>(async () => await TcpClientHelpers.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)));

        await session.SendAsync(XdsTypeUrls.Secret, "s1", CertificateSecret("default", File.ReadAllText(serverOne.Cert), File.ReadAllText(serverOne.Key)), CaSecret("ROOTCA", ca));
        Assert.Equal("s1", (await session.NextRequestAsync(XdsTypeUrls.Secret)).VersionInfo);
        Assert.True(await TcpClientHelpers.EventuallyAsync(async () =>
        {
            try
            {
                var (probe, _) = await ConnectAsync(port, client);
                await probe.DisposeAsync();
                return true;
            }
            catch (Exception ex) when (ex is IOException or SocketException or System.Security.Authentication.AuthenticationException)
            {
                return false;
            }
        }));

        // A client certificate of the mesh with a matching SAN: served, with the SDS certificate and the ALPN offered.
        var (open, presented) = await ConnectAsync(port, client);
        await using var kept = open;
        Assert.Contains("spiffe://e2e.test/inbound-one", string.Join(",", SubjectAltNames.Read(presented).Select(static n => n.Name)));
        Assert.Equal("app", kept.NegotiatedApplicationProtocol.ToString());
        Assert.Equal("app", await ReadLineAsync(kept));
        await kept.WriteAsync("ping\n"u8.ToArray());
        Assert.Equal("ping", await ReadLineAsync(kept));

        // No client certificate, or one whose SAN does not match: refused.
        Assert.True(await RefusedAsync(port, null), "a client without a certificate was served");
        Assert.True(await RefusedAsync(port, intruder), "a client certificate without a matching SAN was served");

        // Rotation: new handshakes get the new certificate; the open connection keeps going.
        await session.SendAsync(XdsTypeUrls.Secret, "s2", CertificateSecret("default", File.ReadAllText(serverTwo.Cert), File.ReadAllText(serverTwo.Key)));
        Assert.Equal("s2", (await session.NextRequestAsync(XdsTypeUrls.Secret)).VersionInfo);
        var (fresh, rotated) = await ConnectAsync(port, client);
        await using (fresh)
        {
            Assert.Contains("spiffe://e2e.test/inbound-two", string.Join(",", SubjectAltNames.Read(rotated).Select(static n => n.Name)));
        }

        await kept.WriteAsync("still here\n"u8.ToArray());
        Assert.Equal("still here", await ReadLineAsync(kept));
    }
}
