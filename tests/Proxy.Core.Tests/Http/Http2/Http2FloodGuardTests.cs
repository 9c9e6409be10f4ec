using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2FloodGuardTests
{
    [Fact]
    public void OnPeerReset_ResetsDominate_TripsRapidReset()
    {
        var guard = new Http2FloodGuard(new Http2FloodLimits { MaxResetsPerWindow = 10 });
        for (var i = 0; i < 10; i++)
        {
            Assert.False(guard.OnPeerReset());
        }

        Assert.True(guard.OnPeerReset());
        Assert.Equal(Http2Defence.RapidReset, guard.Tripped);
    }

    [Fact]
    public void OnPeerReset_ManyCompletedStreams_DoesNotTrip()
    {
        var guard = new Http2FloodGuard(new Http2FloodLimits { MaxResetsPerWindow = 10 });
        for (var i = 0; i < 100; i++)
        {
            guard.OnStreamCompleted();
        }

        for (var i = 0; i < 50; i++)
        {
            Assert.False(guard.OnPeerReset());
        }
    }

    [Fact]
    public void OnPayloadFrame_NonEmptyFrameResetsCount()
    {
        var guard = new Http2FloodGuard(new Http2FloodLimits { MaxConsecutiveEmptyFrames = 2 });
        Assert.False(guard.OnPayloadFrame(empty: true));
        Assert.False(guard.OnPayloadFrame(empty: true));
        Assert.False(guard.OnPayloadFrame(empty: false));
        Assert.False(guard.OnPayloadFrame(empty: true));
        Assert.False(guard.OnPayloadFrame(empty: true));
        Assert.True(guard.OnPayloadFrame(empty: true));
        Assert.Equal(Http2Defence.EmptyFrameFlood, guard.Tripped);
    }

    [Fact]
    public void OnWindowUpdate_AllowanceGrowsWithDataSent()
    {
        var guard = new Http2FloodGuard(new Http2FloodLimits { WindowUpdateAllowance = 2, WindowUpdatesPerDataFrame = 1 });
        Assert.False(guard.OnWindowUpdate());
        Assert.False(guard.OnWindowUpdate());
        guard.OnDataFrameSent();
        Assert.False(guard.OnWindowUpdate());
        Assert.True(guard.OnWindowUpdate());
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, guard.Tripped.ErrorCode());
    }

    [Fact]
    public void Label_EveryDefence_Distinct()
    {
        var labels = new HashSet<string>();
        for (var i = 0; i < Http2Defences.Count; i++)
        {
            Assert.True(labels.Add(((Http2Defence)i).Label()));
        }

        Assert.Equal(Http2ErrorCode.FlowControlError, Http2Defence.WindowOverflow.ErrorCode());
    }
}
