using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

// A minimal YARP reverse proxy used as a peer by run-bench.sh:
//   YarpPeer --listen 127.0.0.1:PORT --backend http://127.0.0.1:PORT/
// Every path goes to the one backend over pooled HTTP/1.1 connections. Logging, telemetry and the
// X-Forwarded-* transforms are off so it does the same work as the other peers.
string? listen = null;
string? backend = null;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--listen": listen = args[i + 1]; break;
        case "--backend": backend = args[i + 1]; break;
        default: break;
    }
}

if (listen is null || backend is null || !IPEndPoint.TryParse(listen, out var endpoint))
{
    Console.Error.WriteLine("usage: YarpPeer --listen HOST:PORT --backend http://HOST:PORT/");
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.AddServerHeader = false;
    kestrel.Listen(endpoint, listenOptions => listenOptions.Protocols = HttpProtocols.Http1);
});

RouteConfig[] routes =
[
    new RouteConfig
    {
        RouteId = "all",
        ClusterId = "backend",
        Match = new RouteMatch { Path = "{**catch-all}" },
        // The default transforms add X-Forwarded-*; the other peers add nothing.
        Transforms = [new Dictionary<string, string> { ["X-Forwarded"] = "Off" }],
    },
];
ClusterConfig[] clusters =
[
    new ClusterConfig
    {
        ClusterId = "backend",
        Destinations = new Dictionary<string, DestinationConfig> { ["backend"] = new DestinationConfig { Address = backend } },
        HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact },
    },
];
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();
app.MapReverseProxy();
await app.RunAsync();
return 0;
