using Proxy.EndToEnd.Tests.Support;
using Proxy.Http.Http2;

namespace Proxy.EndToEnd.Tests.Http2;

/// <summary>
/// Each HTTP/2 abuse defence, attacked over a real socket with frames written by the codec's writer: the proxy
/// answers GOAWAY with the expected code, counts it, and keeps serving other connections.
/// </summary>
public class Http2DefenceTests
{
    private static async Task AssertDefenceAsync(string defence, Http2ErrorCode expected, Func<RawHttp2Client, Task> attack)
    {
        var (upstream, proxy) = await Http2ProxyTests.StartAsync("http1");
        await using var _ = upstream;
        await using var __ = proxy;
        using (var attacker = await RawHttp2Client.ConnectAsync(proxy.Listener("web")))
        {
            await attack(attacker);
            await attacker.FlushAsync();
            Assert.Equal(expected, await attacker.ReadUntilGoAwayAsync());
        }

        using var client = Http2ProxyTests.H2Client(proxy);
        Assert.Equal("hello from a", await client.GetStringAsync("/hello"));
        var metrics = await proxy.Admin.MetricsAsync();
        Assert.Equal(1, metrics.Value($"proxy_http2_defence_triggered_total{{listener=\"web\",defence=\"{defence}\"}}"));
    }

    [Fact]
    public Task RapidReset_ManyStreamsOpenedAndCancelled_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("rapid_reset", Http2ErrorCode.EnhanceYourCalm, async client =>
        {
            for (var i = 0; i < 400; i++)
            {
                var id = (2 * i) + 1;
                client.Headers(id, client.RequestBlock("GET", "/slow/2000"), endStream: true);
                Http2FrameWriter.WriteRstStream(client.Output, id, Http2ErrorCode.Cancel);
                if (i % 50 == 0)
                {
                    await client.FlushAsync();
                }
            }
        });

    [Fact]
    public Task ContinuationFlood_ManySmallFragments_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("continuation_flood", Http2ErrorCode.EnhanceYourCalm, client =>
        {
            // HEADERS without END_HEADERS, then a stream of 1-byte CONTINUATION frames that never ends the block.
            var first = client.Output.GetSpan(10);
            new Http2FrameHeader(1, Http2FrameType.Headers, Http2FrameFlags.EndStream, 1).WriteTo(first);
            first[9] = 0x82;
            client.Output.Advance(10);
            var header = new Http2FrameHeader(1, Http2FrameType.Continuation, Http2FrameFlags.None, 1);
            for (var i = 0; i < 200; i++)
            {
                var span = client.Output.GetSpan(10);
                header.WriteTo(span);
                span[9] = 0x40;
                client.Output.Advance(10);
            }

            return Task.CompletedTask;
        });

    [Fact]
    public Task HpackBomb_HeaderListsOverLimit_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("header_list_too_large", Http2ErrorCode.EnhanceYourCalm, client =>
        {
            // One 4000-byte value enters the dynamic table; each later block names it 20 times: ~80 KB decoded
            // from ~60 bytes on the wire.
            var big = new string('b', 4000);
            client.Headers(1, client.RequestBlock("GET", "/hello", ("x-big", big)), endStream: true);
            for (var s = 1; s <= 8; s++)
            {
                // :method GET, :scheme http, :path / (static), :authority without indexing: the table keeps x-big.
                var block = new List<byte> { 0x82, 0x86, 0x84, 0x01, 0x04, (byte)'t', (byte)'e', (byte)'s', (byte)'t' };
                for (var i = 0; i < 20; i++)
                {
                    block.Add(0x80 | 62); // indexed field: the newest dynamic table entry, x-big
                }

                client.Headers((2 * s) + 1, block.ToArray(), endStream: true);
            }

            return Task.CompletedTask;
        });

    [Fact]
    public Task SettingsFlood_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("settings_flood", Http2ErrorCode.EnhanceYourCalm, client =>
        {
            for (var i = 0; i < 300; i++)
            {
                Http2FrameWriter.WriteSettings(client.Output, ReadOnlySpan<Http2Setting>.Empty);
            }

            return Task.CompletedTask;
        });

    [Fact]
    public Task PingFlood_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("ping_flood", Http2ErrorCode.EnhanceYourCalm, client =>
        {
            for (var i = 0; i < 300; i++)
            {
                Http2FrameWriter.WritePing(client.Output, (ulong)i, ack: false);
            }

            return Task.CompletedTask;
        });

    [Fact]
    public Task EmptyDataFlood_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("empty_frame_flood", Http2ErrorCode.EnhanceYourCalm, client =>
        {
            client.Headers(1, client.RequestBlock("POST", "/sha256"), endStream: false);
            for (var i = 0; i < 100; i++)
            {
                Http2FrameWriter.WriteData(client.Output, 1, ReadOnlySpan<byte>.Empty, endStream: false, 16384);
            }

            return Task.CompletedTask;
        });

    [Fact]
    public Task WindowUpdateFlood_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("window_update_flood", Http2ErrorCode.EnhanceYourCalm, client =>
        {
            for (var i = 0; i < 3000; i++)
            {
                Http2FrameWriter.WriteWindowUpdate(client.Output, 0, 1);
            }

            return Task.CompletedTask;
        });

    [Fact]
    public Task StreamFlood_PastMaxConcurrentStreams_GoAwayEnhanceYourCalm() =>
        AssertDefenceAsync("stream_flood", Http2ErrorCode.EnhanceYourCalm, async client =>
        {
            // Streams that stay open (request bodies never sent), 100 allowed, then every new one is refused.
            for (var i = 0; i < 350; i++)
            {
                client.Headers((2 * i) + 1, client.RequestBlock("POST", "/sha256"), endStream: false);
                if (i % 50 == 0)
                {
                    await client.FlushAsync();
                }
            }
        });

    [Fact]
    public Task WindowOverflow_ConnectionWindowPast2To31_GoAwayFlowControlError() =>
        AssertDefenceAsync("window_overflow", Http2ErrorCode.FlowControlError, client =>
        {
            Http2FrameWriter.WriteWindowUpdate(client.Output, 0, int.MaxValue);
            return Task.CompletedTask;
        });
}
