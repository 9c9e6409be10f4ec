using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Grpc.Net.Client;
using Proxy.Configuration;

namespace Proxy.Xds.Protocol;

/// <summary>
/// The gRPC channel to the management server: Grpc.Net.Client over SocketsHttpHandler, h2c for <c>host:port</c>,
/// TLS when <c>tls</c> is set, and a Unix domain socket through the handler's ConnectCallback. HTTP/2 keepalive
/// pings find a dead server that sent no FIN (a crashed host, a dropped route).
/// </summary>
internal static class XdsChannelFactory
{
    public static GrpcChannel Create(XdsConfig config) => Create(config.Server, config.Tls, config.ConnectTimeout);

    /// <summary>A channel to <paramref name="target"/> (the management server, or an SDS server of <c>xds.secret_servers</c>).</summary>
    public static GrpcChannel Create(XdsServerAddress target, TlsClientConfig? tls, TimeSpan connectTimeout)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = connectTimeout,
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = false,
        };

        string address;
        if (target.UnixPath is { } path)
        {
            // The authority is a placeholder: every connection goes to the socket.
            address = "http://localhost";
            handler.ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }
        else
        {
            var server = target.Address!.Value;
            var host = server.Host.Contains(':') ? $"[{server.Host}]" : server.Host;
            if (tls is not null)
            {
                // The handler names and verifies the server by the URI's host, so the URI carries the SNI name and
                // the connect goes to the configured address.
                var name = tls.Sni ?? server.Host;
                address = $"https://{(name.Contains(':') ? $"[{name}]" : name)}:{server.Port}";
                handler.SslOptions = ClientTls(tls, name);
                handler.ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    try
                    {
                        await socket.ConnectAsync(server.Host, server.Port, cancellationToken).ConfigureAwait(false);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
            }
            else
            {
                address = $"http://{host}:{server.Port}";
            }
        }

        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024, // a full push to a large mesh is tens of MB
        });
    }

    private static SslClientAuthenticationOptions ClientTls(TlsClientConfig tls, string host)
    {
        var options = new SslClientAuthenticationOptions { TargetHost = tls.Sni ?? host };
        if (tls.Cert is { } cert && tls.Key is { } key)
        {
            options.ClientCertificates = [X509Certificate2.CreateFromPemFile(cert, key)];
        }

        if (tls.InsecureSkipVerify)
        {
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else if (tls.Ca is { } ca)
        {
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(ca);
            options.CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
            };
            options.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        }

        return options;
    }
}
