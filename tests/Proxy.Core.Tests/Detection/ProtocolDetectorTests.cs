using System.Buffers;
using System.IO.Pipelines;
using Proxy.Detection;
using Proxy.Tests.Http.Http1;

namespace Proxy.Tests.Detection;

/// <summary>Detection over binary fixtures in TestData/detection: every prefix, every two-segment split.</summary>
public sealed class ProtocolDetectorTests
{
    private static byte[] Fixture(string name) => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "detection", name));

    public static TheoryData<string, DetectedProtocol> Fixtures() => new()
    {
        { "openssl-clienthello.bin", DetectedProtocol.Tls },
        { "http2-preface.bin", DetectedProtocol.Http2 },
        { "http1-request.bin", DetectedProtocol.Http1 },
    };

    [Fact]
    public void Classify_OpensslClientHello_ExtractsSniAndAlpn()
    {
        var result = ProtocolDetector.Classify(new ReadOnlySequence<byte>(Fixture("openssl-clienthello.bin")));
        Assert.Equal(DetectedProtocol.Tls, result.Protocol);
        Assert.Equal("api.mesh.test", result.ServerName);
        Assert.Equal(["h2", "http/1.1"], result.Alpn!);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Classify_EveryPrefix_NeedMoreUntilDecided(string name, DetectedProtocol expected)
    {
        var bytes = Fixture(name);
        var decidedAt = -1;
        for (var length = 0; length <= bytes.Length; length++)
        {
            var result = ProtocolDetector.Classify(new ReadOnlySequence<byte>(bytes, 0, length));
            if (result.Protocol == DetectedProtocol.NeedMore)
            {
                Assert.Equal(-1, decidedAt); // once decided, a longer input stays decided
                continue;
            }

            Assert.Equal(expected, result.Protocol);
            decidedAt = decidedAt < 0 ? length : decidedAt;
        }

        Assert.True(decidedAt > 0);
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Classify_EveryTwoSegmentSplit_SameResult(string name, DetectedProtocol expected)
    {
        var bytes = Fixture(name);
        var whole = ProtocolDetector.Classify(new ReadOnlySequence<byte>(bytes));
        Assert.Equal(expected, whole.Protocol);
        for (var at = 0; at <= bytes.Length; at++)
        {
            var split = ProtocolDetector.Classify(TestInput.Split(bytes, at));
            Assert.Equal(whole.Protocol, split.Protocol);
            Assert.Equal(whole.ServerName, split.ServerName);
            Assert.Equal(whole.Alpn, split.Alpn);
        }
    }

    [Theory]
    [InlineData("ssh-banner.bin")]
    public void Classify_ServerBannerOrJunk_Opaque(string name)
    {
        var result = ProtocolDetector.Classify(new ReadOnlySequence<byte>(Fixture(name)));
        Assert.Equal(DetectedProtocol.Opaque, result.Protocol);
        Assert.Equal(OpaqueReason.Unrecognised, result.Reason);
    }

    [Theory]
    [InlineData(new byte[] { 0x16, 0x07 })]
    [InlineData(new byte[] { 0x00, 0x01, 0x02 })]
    [InlineData(new byte[] { (byte)'G', (byte)'E', (byte)'T', (byte)' ', (byte)'/', (byte)' ', (byte)'X' })]
    public void Classify_Garbage_Opaque(byte[] bytes) =>
        Assert.Equal(DetectedProtocol.Opaque, ProtocolDetector.Classify(new ReadOnlySequence<byte>(bytes)).Protocol);

    [Fact]
    public async Task DetectAsync_Silence_OpaqueTimeoutWithoutStalling()
    {
        var pipe = new Pipe();
        var started = Environment.TickCount64;
        var result = await ProtocolDetector.DetectAsync(pipe.Reader, TimeSpan.FromMilliseconds(50));
        Assert.Equal(DetectionResult.Opaque(OpaqueReason.Timeout), result);
        Assert.True(Environment.TickCount64 - started < 2000);
    }

    [Fact]
    public async Task DetectAsync_BytesInPieces_DetectsAndConsumesNothing()
    {
        var pipe = new Pipe();
        var bytes = Fixture("http1-request.bin");
        await pipe.Writer.WriteAsync(bytes.AsMemory(0, 5));
        var detecting = ProtocolDetector.DetectAsync(pipe.Reader, TimeSpan.FromSeconds(5)).AsTask();
        await Task.Delay(20);
        Assert.False(detecting.IsCompleted);
        await pipe.Writer.WriteAsync(bytes.AsMemory(5));
        Assert.Equal(DetectedProtocol.Http1, (await detecting).Protocol);

        var all = await pipe.Reader.ReadAsync();
        Assert.Equal(bytes.Length, all.Buffer.Length);
    }

    [Fact]
    public async Task DetectAsync_ClosedEarly_OpaqueClosed()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync("GE"u8.ToArray());
        await pipe.Writer.CompleteAsync();
        var result = await ProtocolDetector.DetectAsync(pipe.Reader, TimeSpan.FromSeconds(5));
        Assert.Equal(OpaqueReason.Closed, result.Reason);
    }
}
