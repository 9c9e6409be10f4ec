using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Proxy.EndToEnd.Tests.Support;

/// <summary>A minimal OTLP/HTTP JSON collector: POST /v1/traces, spans kept for the test.</summary>
internal sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpCollector(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public ConcurrentBag<string> Bodies { get; } = [];

    public ConcurrentBag<(string TraceId, string SpanId, string? ParentSpanId)> Spans { get; } = [];

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0));
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            var body = await reader.ReadToEndAsync();
            collector.Bodies.Add(body);
            using var json = JsonDocument.Parse(body);
            foreach (var resource in json.RootElement.GetProperty("resourceSpans").EnumerateArray())
            {
                foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
                {
                    foreach (var span in scope.GetProperty("spans").EnumerateArray())
                    {
                        collector.Spans.Add((
                            span.GetProperty("traceId").GetString()!,
                            span.GetProperty("spanId").GetString()!,
                            span.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() : null));
                    }
                }
            }

            return Results.Ok();
        });
        await app.StartAsync();
        collector.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return collector;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
