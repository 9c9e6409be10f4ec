using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2FlowWindowTests
{
    [Fact]
    public void TryConsume_WithinWindow_Reduces_BeyondWindow_Refused()
    {
        var window = new Http2FlowWindow(100);
        Assert.True(window.TryConsume(60));
        Assert.Equal(40, window.Available);
        Assert.False(window.TryConsume(41));
        Assert.Equal(40, window.Available);
        Assert.True(window.TryConsume(40));
        Assert.Equal(0, window.Available);
    }

    [Fact]
    public void TryCredit_PastMaxWindow_IsOverflow()
    {
        var window = new Http2FlowWindow(65535);
        Assert.True(window.TryCredit(int.MaxValue - 65535));
        Assert.Equal(int.MaxValue, window.Available);
        Assert.False(window.TryCredit(1));
        Assert.Equal(int.MaxValue, window.Available);
    }

    [Fact]
    public void TryAdjust_Decrease_CanGoNegative_ThenCreditsRecover()
    {
        // RFC 9113 6.9.2: a SETTINGS_INITIAL_WINDOW_SIZE decrease can leave a window negative.
        var window = new Http2FlowWindow(65535);
        Assert.True(window.TryConsume(60000));
        Assert.True(window.TryAdjust(16384));
        Assert.Equal(5535 - 49151, window.Available);
        Assert.False(window.TryConsume(1));
        Assert.True(window.TryCredit(50000));
        Assert.Equal(5535 - 49151 + 50000, window.Available);
    }

    [Fact]
    public void TryAdjust_IncreasePastMax_IsOverflow()
    {
        var window = new Http2FlowWindow(65535);
        Assert.True(window.TryCredit(int.MaxValue - 65535));
        Assert.False(window.TryAdjust(65536));
    }

    [Fact]
    public void Release_BatchesUpdatesUntilHalfTheWindow()
    {
        var window = new Http2FlowWindow(65535);
        Assert.True(window.TryConsume(40000));
        Assert.False(window.Release(16384, out _));
        Assert.Equal(16384, window.Unannounced);
        Assert.True(window.Release(16384, out int update));
        Assert.Equal(32768, update);
        Assert.Equal(0, window.Unannounced);
        Assert.Equal(65535 - 40000 + 32768, window.Available);
    }
}
