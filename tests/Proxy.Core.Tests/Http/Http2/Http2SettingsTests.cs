using System.Buffers;
using Proxy.Http.Http2;
using static Proxy.Tests.Http.Http2.Http2TestData;

namespace Proxy.Tests.Http.Http2;

public class Http2SettingsTests
{
    [Fact]
    public void Defaults_AreTheRfcValues()
    {
        var settings = new Http2Settings();
        Assert.Equal(4096, settings.HeaderTableSize);
        Assert.True(settings.EnablePush);
        Assert.Equal(int.MaxValue, settings.MaxConcurrentStreams);
        Assert.Equal(65535, settings.InitialWindowSize);
        Assert.Equal(16384, settings.MaxFrameSize);
        Assert.Equal(int.MaxValue, settings.MaxHeaderListSize);
        Assert.Equal(0, settings.GetNonDefault(new Http2Setting[6]));
    }

    [Theory]
    [InlineData(Http2SettingsParameter.InitialWindowSize, 0x7FFF_FFFFu, Http2ErrorCode.NoError)]
    [InlineData(Http2SettingsParameter.InitialWindowSize, 0x8000_0000u, Http2ErrorCode.FlowControlError)]
    [InlineData(Http2SettingsParameter.MaxFrameSize, 16383u, Http2ErrorCode.ProtocolError)]
    [InlineData(Http2SettingsParameter.MaxFrameSize, 16384u, Http2ErrorCode.NoError)]
    [InlineData(Http2SettingsParameter.MaxFrameSize, 16777215u, Http2ErrorCode.NoError)]
    [InlineData(Http2SettingsParameter.MaxFrameSize, 16777216u, Http2ErrorCode.ProtocolError)]
    [InlineData(Http2SettingsParameter.EnablePush, 1u, Http2ErrorCode.NoError)]
    [InlineData(Http2SettingsParameter.EnablePush, 2u, Http2ErrorCode.ProtocolError)]
    [InlineData(Http2SettingsParameter.HeaderTableSize, 0xFFFF_FFFFu, Http2ErrorCode.NoError)]
    [InlineData((Http2SettingsParameter)0x99, 12345u, Http2ErrorCode.NoError)]
    public void Set_ValidatesRanges(Http2SettingsParameter parameter, uint value, Http2ErrorCode expected)
    {
        Assert.Equal(expected, new Http2Settings().Set(parameter, value));
    }

    [Fact]
    public void Apply_InOrder_UnknownIgnored_LargeValuesClamped()
    {
        var settings = new Http2Settings();
        byte[] payload = Hex("0004 00010000  0099 00000001  0003 ffffffff  0004 00020000");
        Assert.Equal(Http2ErrorCode.NoError, settings.Apply(new ReadOnlySequence<byte>(payload)));
        Assert.Equal(0x20000, settings.InitialWindowSize); // the later value wins
        Assert.Equal(int.MaxValue, settings.MaxConcurrentStreams);
    }

    [Fact]
    public void Apply_InvalidValue_ReturnsItsCode()
    {
        var settings = new Http2Settings();
        Assert.Equal(Http2ErrorCode.FlowControlError, settings.Apply(new ReadOnlySequence<byte>(Hex("0004 80000000"))));
        Assert.Equal(Http2ErrorCode.FrameSizeError, settings.Apply(new ReadOnlySequence<byte>(Hex("0004 0000"))));
    }
}
