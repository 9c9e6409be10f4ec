using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Proxy.Tls;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>
/// A real TLS upstream (Kestrel) that asks for a client certificate and says whose it got: GET /whoami answers
/// <c>NAME CLIENT-SPIFFE-ID PORT</c> (<c>none</c> without a certificate; PORT is the proxy's side of the connection) and closes the connection, so every request shows the certificate
/// of a fresh handshake; GET /held waits for <see cref="Hold"/> on the connection it came on, and closes it too.
/// </summary>
public sealed class MtlsUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;

    private MtlsUpstream(WebApplication app) => _app = app;

    public string Address => $"127.0.0.1:{new Uri(_app.Urls.First()).Port}";

    /// <summary>When set, /held waits for it.</summary>
    public TaskCompletionSource? Hold { get; set; }

    public static async Task<MtlsUpstream> StartAsync(string name, string certPath, string keyPath)
    {
        var certificate = X509Certificate2.CreateFromPemFile(certPath, keyPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.UseHttps(https =>
        {
            https.ServerCertificate = certificate;
            https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
            https.AllowAnyClientCertificate();
        })));
        var app = builder.Build();
        var upstream = new MtlsUpstream(app);
        app.MapGet("/whoami", (HttpContext context) =>
        {
            context.Response.Headers.Connection = "close";
            var client = context.Connection.ClientCertificate is { } c ? SpiffeId.FromCertificate(c)?.Value ?? c.Subject : "none";
            return $"{name} {client} {context.Connection.RemotePort}";
        });
        app.MapGet("/hello", () => $"hello from {name}");
        app.MapGet("/held", async (HttpContext context) =>
        {
            context.Response.Headers.Connection = "close"; // the connection made before a rotation serves no later request
            if (upstream.Hold is { } hold)
            {
                await hold.Task;
            }

            return $"released {name}";
        });
        await app.StartAsync();
        return upstream;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
