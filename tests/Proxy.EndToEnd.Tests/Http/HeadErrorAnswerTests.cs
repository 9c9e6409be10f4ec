using System.Net.Sockets;
using System.Text;
using Proxy.EndToEnd.Tests.Support;

namespace Proxy.EndToEnd.Tests.Http;

/// <summary>An answer the proxy makes to a HEAD request has no body (RFC 9110 9.3.2), so keep-alive goes on cleanly.</summary>
public class HeadErrorAnswerTests
{
    [Fact]
    public async Task Head_NoRoute_404WithoutBody_NextResponseOnTheConnectionReadsClean()
    {
        await using var proxy = await RunningProxy.StartAsync("""
            admin: { address: 127.0.0.1:0 }
            listeners:
              - name: web
                address: 127.0.0.1:0
                routes: [ { match: { path_prefix: /api }, cluster: api } ]
            clusters:
              - { name: api, endpoints: [ 127.0.0.1:9 ] }
            """);
        using var client = new TcpClient();
        await client.ConnectAsync(proxy.Listener("web"));
        var stream = client.GetStream();
        stream.ReadTimeout = 10_000;

        // Both requests at once: the answers must come back as two well-framed responses and nothing else.
        await stream.WriteAsync("HEAD /nowhere HTTP/1.1\r\nHost: t\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"u8.ToArray());
        var all = await ReadToEndAsync(stream);

        var second = all.IndexOf("HTTP/1.1 404", 1, StringComparison.Ordinal);
        Assert.True(second > 0, all);
        var head = all[..second];
        Assert.StartsWith("HTTP/1.1 404 Not Found\r\n", head);
        Assert.EndsWith("\r\n\r\n", head); // the HEAD answer ends with its head: no body byte before the next response
        Assert.Contains("content-length: 10\r\n", head); // the length a GET gets ("Not Found\n")
        Assert.EndsWith("\r\n\r\nNot Found\n", all);
    }

    private static async Task<string> ReadToEndAsync(NetworkStream stream)
    {
        var buffer = new byte[4096];
        var text = new StringBuilder();
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            text.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        return text.ToString();
    }
}
