using System.Globalization;
using System.Net;
using GrpcPeer;
using Microsoft.AspNetCore.Server.Kestrel.Core;

// Usage: GrpcPeer --listen ADDR:PORT [--listen ADDR:PORT ...] [--reply-bytes N]
// Serves bench.Echo/Ping over h2c on every --listen address until SIGTERM.
var listens = new List<IPEndPoint>();
var replyBytes = 1024;
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--listen" when value is not null && IPEndPoint.TryParse(value, out var endpoint):
            listens.Add(endpoint);
            i++;
            break;
        case "--reply-bytes" when value is not null && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out replyBytes):
            i++;
            break;
        default:
            Console.Error.WriteLine($"GrpcPeer: '{args[i]}' is not understood. Give --listen ADDR:PORT (one or more) and optionally --reply-bytes N.");
            return 2;
    }
}

if (listens.Count == 0)
{
    Console.Error.WriteLine("GrpcPeer: give at least one --listen ADDR:PORT to serve on.");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    foreach (var endpoint in listens)
    {
        kestrel.Listen(endpoint, o => o.Protocols = HttpProtocols.Http2); // h2c: prior knowledge, no TLS
    }
});
builder.Services.AddGrpc();
builder.Services.AddSingleton(new ReplyPayload(replyBytes));
builder.Services.AddSingleton<EchoService>();
var app = builder.Build();
app.MapGrpcService<EchoService>();
await app.StartAsync();
Console.WriteLine($"GrpcPeer: serving bench.Echo/Ping on {string.Join(", ", listens)} ({replyBytes}-byte replies)");
await app.WaitForShutdownAsync();
return 0;
