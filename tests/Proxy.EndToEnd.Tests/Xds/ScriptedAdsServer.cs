using System.Net;
using System.Threading.Channels;
using Envoy.Service.Discovery.V3;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// A management server scripted by the test: Kestrel with the generated ADS service (h2c). Each stream the proxy
/// opens becomes an <see cref="AdsSession"/> the test reads requests from and sends responses on. It can be stopped
/// (streams die with the process's sockets) and started again on the same port.
/// </summary>
public sealed class ScriptedAdsServer : IAsyncDisposable
{
    private readonly Channel<AdsSession> _sessions = Channel.CreateUnbounded<AdsSession>();
    private readonly Channel<DeltaAdsSession> _deltaSessions = Channel.CreateUnbounded<DeltaAdsSession>();
    private WebApplication? _app;

    private ScriptedAdsServer(int port, string? unixPath = null)
    {
        Port = port;
        UnixPath = unixPath;
    }

    public int Port { get; }

    /// <summary>The Unix socket it listens on instead of <see cref="Port"/>, as istio-agent serves xDS.</summary>
    public string? UnixPath { get; }

    /// <summary>When set, the server speaks TLS with this certificate and asks for a client certificate (istiod's 15012).</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ServerCertificate { get; init; }

    /// <summary>The subject of the client certificate of the last stream over TLS; null without one.</summary>
    public string? LastClientCertificate { get; internal set; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>When each stream was opened, in order (for the backoff test).</summary>
    public List<DateTime> StreamStarts { get; } = [];

    public static async Task<ScriptedAdsServer> StartAsync(int port = 0)
    {
        if (port == 0)
        {
            using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var server = new ScriptedAdsServer(port);
        await server.RestartAsync();
        return server;
    }

    public static async Task<ScriptedAdsServer> StartTlsAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var server = new ScriptedAdsServer(port) { ServerCertificate = certificate };
        await server.RestartAsync();
        return server;
    }

    public static async Task<ScriptedAdsServer> StartUnixAsync(string path)
    {
        var server = new ScriptedAdsServer(0, path);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts (again) listening on <see cref="Port"/> (or <see cref="UnixPath"/>).</summary>
    public async Task RestartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (UnixPath is { } path)
            {
                File.Delete(path);
                k.ListenUnixSocket(path, o => o.Protocols = HttpProtocols.Http2);
            }
            else
            {
                k.Listen(IPAddress.Loopback, Port, o =>
                {
                    o.Protocols = HttpProtocols.Http2;
                    if (ServerCertificate is { } certificate)
                    {
                        o.UseHttps(https =>
                        {
                            https.ServerCertificate = certificate;
                            https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
                            https.AllowAnyClientCertificate();
                        });
                    }
                });
            }
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(this);
        builder.Services.AddSingleton<AdsService>();
        _app = builder.Build();
        _app.MapGrpcService<AdsService>();
        await _app.StartAsync();
    }

    /// <summary>Stops the server; open streams are cut.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            using var hurry = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
            await app.StopAsync(hurry.Token);
            await app.DisposeAsync();
        }
    }

    /// <summary>The next stream the proxy opens.</summary>
    public async Task<AdsSession> NextSessionAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        return await _sessions.Reader.ReadAsync(cts.Token);
    }

    /// <summary>The next incremental stream (DeltaAggregatedResources) the proxy opens.</summary>
    public async Task<DeltaAdsSession> NextDeltaSessionAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        return await _deltaSessions.Reader.ReadAsync(cts.Token);
    }

    internal void Opened(DeltaAdsSession session)
    {
        lock (StreamStarts)
        {
            StreamStarts.Add(DateTime.UtcNow);
        }

        _deltaSessions.Writer.TryWrite(session);
    }

    internal void Opened(AdsSession session)
    {
        lock (StreamStarts)
        {
            StreamStarts.Add(DateTime.UtcNow);
        }

        _sessions.Writer.TryWrite(session);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>The ADS service: hands each stream to the test and stays open until the test ends it or the proxy leaves.</summary>
    private sealed class AdsService(ScriptedAdsServer server) : AggregatedDiscoveryService.AggregatedDiscoveryServiceBase
    {
        public override async Task StreamAggregatedResources(IAsyncStreamReader<DiscoveryRequest> requestStream, IServerStreamWriter<DiscoveryResponse> responseStream, ServerCallContext context)
        {
            var session = new AdsSession(responseStream, context.CancellationToken);
            server.LastClientCertificate = context.GetHttpContext().Connection.ClientCertificate?.Subject;
            server.Opened(session);
            var reading = Task.Run(async () =>
            {
                try
                {
                    while (await requestStream.MoveNext(context.CancellationToken))
                    {
                        session.Requests.Writer.TryWrite(requestStream.Current);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or RpcException or InvalidOperationException)
                {
                }
                finally
                {
                    session.Requests.Writer.TryComplete();
                }
            });

            // The stream lasts until the proxy leaves or the test ends it (the call then completes with OK).
            await Task.WhenAny(reading, session.Ended);
        }

        public override async Task DeltaAggregatedResources(IAsyncStreamReader<DeltaDiscoveryRequest> requestStream, IServerStreamWriter<DeltaDiscoveryResponse> responseStream, ServerCallContext context)
        {
            var session = new DeltaAdsSession(responseStream, context.CancellationToken);
            server.Opened(session);
            var reading = Task.Run(async () =>
            {
                try
                {
                    while (await requestStream.MoveNext(context.CancellationToken))
                    {
                        session.Requests.Writer.TryWrite(requestStream.Current);
                    }
                }
                catch (Exception ex) when (ex is OperationCanceledException or IOException or RpcException or InvalidOperationException)
                {
                }
                finally
                {
                    session.Requests.Writer.TryComplete();
                }
            });
            await Task.WhenAny(reading, session.Ended);
        }
    }
}
