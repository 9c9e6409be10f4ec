using System.Threading.Channels;
using Envoy.Service.Discovery.V3;
using Envoy.Service.Secret.V3;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// An SDS server scripted by the test, as istio-agent serves one: Kestrel on a Unix socket with the generated
/// SecretDiscoveryService (StreamSecrets, state of the world). Each stream the proxy opens becomes an
/// <see cref="AdsSession"/> (the same request and response messages) the test reads requests from and sends secrets
/// on. It can be stopped (streams die with it) and started again on the same socket.
/// </summary>
public sealed class ScriptedSdsServer : IAsyncDisposable
{
    private readonly Channel<AdsSession> _sessions = Channel.CreateUnbounded<AdsSession>();
    private WebApplication? _app;

    private ScriptedSdsServer(string path) => SocketPath = path;

    /// <summary>The Unix socket it listens on (istio-agent's ./var/run/secrets/workload-spiffe-uds/socket).</summary>
    public string SocketPath { get; }

    /// <summary>How many streams the proxy opened.</summary>
    public int Streams => _streams;

    private int _streams;

    public static async Task<ScriptedSdsServer> StartAsync(string path)
    {
        var server = new ScriptedSdsServer(path);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts (again) listening on <see cref="SocketPath"/>.</summary>
    public async Task RestartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            File.Delete(SocketPath);
            k.ListenUnixSocket(SocketPath, o => o.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(this);
        builder.Services.AddSingleton<SdsService>();
        _app = builder.Build();
        _app.MapGrpcService<SdsService>();
        await _app.StartAsync();
    }

    /// <summary>Stops the server, as a killed agent does: open streams are cut and the socket refuses connections.</summary>
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

    /// <summary>Whether a stream is waiting to be taken by <see cref="NextSessionAsync"/>.</summary>
    public bool HasPendingSession => _sessions.Reader.Count > 0;

    private void Opened(AdsSession session)
    {
        Interlocked.Increment(ref _streams);
        _sessions.Writer.TryWrite(session);
    }

    public async ValueTask DisposeAsync() => await StopAsync();

    /// <summary>The SDS service: hands each stream to the test and stays open until the test ends it or the proxy leaves.</summary>
    private sealed class SdsService(ScriptedSdsServer server) : SecretDiscoveryService.SecretDiscoveryServiceBase
    {
        public override async Task StreamSecrets(IAsyncStreamReader<DiscoveryRequest> requestStream, IServerStreamWriter<DiscoveryResponse> responseStream, ServerCallContext context)
        {
            var session = new AdsSession(responseStream, context.CancellationToken);
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
