using System.Net.WebSockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>
/// A real HTTP upstream for end-to-end tests: Kestrel on 127.0.0.1 with a port of its own, and
/// endpoints for each behaviour the tests need (bodies of any size, chunked, HEAD, 204/304,
/// WebSocket echo, slow answers, slowly streamed bodies, an abort mid-body).
/// </summary>
public sealed class KestrelUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _requests;

    private KestrelUpstream(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public int Port { get; private set; }

    public string Address => $"127.0.0.1:{Port}";

    /// <summary>While true, every request but /health is answered 500.</summary>
    public bool FailAll { get; set; }

    /// <summary>What GET /health answers: 200 while true, 503 once set false.</summary>
    public bool Healthy { get; set; } = true;

    /// <summary>How many more requests to /flaky get 503 before it answers 200.</summary>
    public int FlakyFailures;

    /// <summary>When set, /held waits for it before answering (a hung upstream the test releases).</summary>
    public TaskCompletionSource? Hold { get; set; }

    /// <summary>Requests to /held and /mirror-target received so far.</summary>
    public int HeldRequests => Volatile.Read(ref _held);

    private int _held;

    /// <summary>Requests this upstream has received.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<KestrelUpstream> StartAsync(string name = "upstream", HttpProtocols protocols = HttpProtocols.Http1)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(System.Net.IPAddress.Loopback, 0, o => o.Protocols = protocols);
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var upstream = new KestrelUpstream(app, name);
        app.UseWebSockets();
        app.Use(async (context, next) =>
        {
            Interlocked.Increment(ref upstream._requests);
            context.Response.Headers["x-upstream"] = name;
            if (upstream.FailAll && context.Request.Path != "/health")
            {
                context.Response.StatusCode = 500;
                return;
            }

            await next(context);
        });

        app.MapMethods("/hello", ["GET", "HEAD"], () => $"hello from {name}");
        app.MapGet("/protocol", (HttpRequest request) => request.Protocol);
        app.MapGet("/health", (HttpResponse response) => response.StatusCode = upstream.Healthy ? 200 : 503);
        app.MapGet("/flaky", (HttpResponse response) =>
        {
            if (Interlocked.Decrement(ref upstream.FlakyFailures) >= 0)
            {
                response.StatusCode = 503;
                return "down";
            }

            return $"ok from {name}";
        });
        app.MapGet("/always-500", (HttpResponse response) =>
        {
            response.StatusCode = 500;
            return "broken";
        });
        app.MapGet("/held", async () =>
        {
            Interlocked.Increment(ref upstream._held);
            if (upstream.Hold is { } hold)
            {
                await hold.Task;
            }

            return $"released {name}";
        });
        app.MapGet("/headers", (HttpRequest request) =>
            string.Join("\n", request.Headers.Select(h => $"{h.Key.ToLowerInvariant()}: {h.Value}")));
        app.MapGet("/api/{**rest}", (HttpRequest request) =>
            $"target: {request.Path}{request.QueryString}\n" + string.Join("\n", request.Headers.Select(h => $"{h.Key.ToLowerInvariant()}: {h.Value}")));
        app.MapGet("/target/{**rest}", (HttpRequest request) =>
            $"target: {request.Path}{request.QueryString}\n" + string.Join("\n", request.Headers.Select(h => $"{h.Key.ToLowerInvariant()}: {h.Value}")));
        app.MapGet("/bytes/{count:long}", async (long count, HttpResponse response) =>
        {
            response.ContentLength = count;
            await WritePatternAsync(response, count);
        });
        app.MapGet("/chunked/{count:long}", async (long count, HttpResponse response) =>
        {
            // No length set: Kestrel frames the body with chunked transfer coding.
            await WritePatternAsync(response, count);
        });
        app.MapPost("/sha256", async (HttpRequest request) =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                total += read;
            }

            return $"{total} {Convert.ToHexString(hash.GetHashAndReset())}";
        });
        app.MapPost("/echo", async (HttpContext context) =>
        {
            await context.Request.Body.CopyToAsync(context.Response.Body);
        });
        app.MapGet("/status/{code:int}", (int code, HttpResponse response) =>
        {
            response.StatusCode = code;
            if (code == 304)
            {
                response.Headers.ETag = "\"v1\"";
            }

            return Task.CompletedTask;
        });
        app.MapGet("/slow/{ms:int}", async (int ms) =>
        {
            await Task.Delay(ms);
            return "slow";
        });
        app.MapGet("/drip/{chunks:int}/{ms:int}", async (int chunks, int ms, HttpResponse response) =>
        {
            // A body that keeps moving, slowly: a chunk of 10 bytes every ms milliseconds.
            for (var i = 0; i < chunks; i++)
            {
                await response.Body.WriteAsync("drip-drip\n"u8.ToArray());
                await response.Body.FlushAsync();
                await Task.Delay(ms);
            }
        });
        app.MapGet("/abort-mid-body", async (HttpContext context) =>
        {
            context.Response.ContentLength = 1_000_000;
            await context.Response.Body.WriteAsync(new byte[100_000]);
            await context.Response.Body.FlushAsync();
            context.Abort();
        });
        app.Map("/ws", async (HttpContext context) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
            }
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        upstream.Port = new Uri(address).Port;
        return upstream;
    }

    /// <summary>The deterministic body of /bytes and /chunked: byte i is (i * 31 + 7) mod 251.</summary>
    public static byte[] Pattern(long count)
    {
        var bytes = new byte[count];
        for (long i = 0; i < count; i++)
        {
            bytes[i] = (byte)((i * 31 + 7) % 251);
        }

        return bytes;
    }

    private static async Task WritePatternAsync(HttpResponse response, long count)
    {
        var chunk = new byte[32 * 1024];
        for (long offset = 0; offset < count; offset += chunk.Length)
        {
            var length = (int)Math.Min(chunk.Length, count - offset);
            for (var i = 0; i < length; i++)
            {
                chunk[i] = (byte)(((offset + i) * 31 + 7) % 251);
            }

            await response.Body.WriteAsync(chunk.AsMemory(0, length));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
