using System.Net;
using System.Net.Sockets;
using Proxy.LoadTests.Client;

namespace Proxy.LoadTests.Harness;

/// <summary>
/// Runtime checks for proxy features, so a scenario whose feature is missing says so and skips
/// instead of faking a pass. Each answers (works, detail).
/// </summary>
public static class FeatureProbes
{
    /// <summary>Does the http listener forward a GET to the cluster (L7 forwarding)?</summary>
    public static async Task<(bool Works, string Detail)> HttpForwardingAsync(ProxyFixture fixture)
    {
        var factory = new Http1ConnectionFactory(fixture.HttpUrl);
        long before = fixture.UpstreamRequests();
        using var connection = factory.Create();
        var result = await connection.SendAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        bool reachedUpstream = fixture.UpstreamRequests() > before;
        if (result.Status == 200 && reachedUpstream)
        {
            return (true, "http listener forwards GET / to the cluster");
        }

        return (false, result.Status != 0
            ? $"http listener answered {result.Status} without forwarding"
            : $"http listener does not forward yet (probe GET ended with {OutcomeName(result.Outcome)})");
    }

    /// <summary>
    /// Does the http listener speak HTTP/2 with prior knowledge? Sends the connection preface and
    /// an empty SETTINGS frame and expects a SETTINGS frame back (RFC 9113 sections 3.4 and 6.5).
    /// </summary>
    public static async Task<(bool Works, string Detail)> Http2PriorKnowledgeAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), timeout.Token).ConfigureAwait(false);

            // Preface, then a SETTINGS frame: length 0 (3 bytes), type 0x4, flags 0, stream 0.
            byte[] hello = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];
            await socket.SendAsync(hello, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            var frame = new byte[9];
            int got = 0;
            while (got < 9)
            {
                int n = await socket.ReceiveAsync(frame.AsMemory(got), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return (false, $"connection closed after {got} bytes in reply to the HTTP/2 preface");
                }

                got += n;
            }

            return frame[3] == 4 && frame[4] is 0 or 1
                ? (true, "http listener answers the h2 prior-knowledge preface with SETTINGS")
                : (false, $"reply to the HTTP/2 preface is not a SETTINGS frame (first bytes {Convert.ToHexString(frame)})");
        }
        catch (OperationCanceledException)
        {
            return (false, "no reply to the HTTP/2 preface within 3s");
        }
        catch (SocketException e)
        {
            return (false, $"HTTP/2 preface probe failed: {e.SocketErrorCode}");
        }
    }

    /// <summary>Does <c>proxy validate</c> accept the config text?</summary>
    public static Task<(bool Valid, string Output)> ValidatorAcceptsAsync(string binary, string directory, string yaml) =>
        ProxyProcess.ValidateAsync(binary, Path.Combine(directory, "probe.yaml"), yaml);

    private static string OutcomeName(RequestOutcome outcome) => Load.LoadResult.OutcomeName(outcome);
}
