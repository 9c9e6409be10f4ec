using Proxy.Http.Http2;

namespace Proxy.Tests.Http.Http2;

public class Http2ClosedStreamsTests
{
    [Fact]
    public void Classify_NothingRemembered_Closed()
    {
        var closed = new Http2ClosedStreams();
        Assert.Equal(Http2ClosedStreamKind.Closed, closed.Classify(1, 1_000));
    }

    [Fact]
    public void Classify_ResetHere_IgnoredDuringGraceThenClosed()
    {
        var closed = new Http2ClosedStreams();
        closed.OnReset(3, 1_000);

        Assert.Equal(Http2ClosedStreamKind.ResetHere, closed.Classify(3, 1_000 + Http2ClosedStreams.ResetGraceMilliseconds - 1));
        Assert.Equal(Http2ClosedStreamKind.Closed, closed.Classify(3, 1_000 + Http2ClosedStreams.ResetGraceMilliseconds));
        Assert.Equal(Http2ClosedStreamKind.Closed, closed.Classify(5, 1_001));
    }

    [Fact]
    public void Classify_MoreResetsThanRemembered_UnknownUntilTheForgottenOnesExpire()
    {
        var closed = new Http2ClosedStreams();
        for (int i = 0; i <= Http2ClosedStreams.RememberedResets; i++)
        {
            closed.OnReset((2 * i) + 1, 1_000 + i);
        }

        // Stream 1 was pushed out of the ring while still in its grace period: it, and any unknown stream, cannot be
        // told from a stream reset here, so they are not treated as errors until it would have expired.
        Assert.Equal(Http2ClosedStreamKind.Unknown, closed.Classify(1, 2_000));
        Assert.Equal(Http2ClosedStreamKind.Unknown, closed.Classify(999, 2_000));
        Assert.Equal(Http2ClosedStreamKind.ResetHere, closed.Classify(3, 2_000));
        Assert.Equal(Http2ClosedStreamKind.Closed, closed.Classify(999, 1_000 + Http2ClosedStreams.ResetGraceMilliseconds));
    }

    [Fact]
    public void Classify_ExpiredResetsPushedOut_StillCertain()
    {
        var closed = new Http2ClosedStreams();
        for (int i = 0; i <= Http2ClosedStreams.RememberedResets; i++)
        {
            closed.OnReset((2 * i) + 1, i * Http2ClosedStreams.ResetGraceMilliseconds);
        }

        Assert.Equal(Http2ClosedStreamKind.Closed, closed.Classify(999, (Http2ClosedStreams.RememberedResets * Http2ClosedStreams.ResetGraceMilliseconds) + 1));
    }

    [Fact]
    public void Classify_SkippedIdentifiers_NeverOpened()
    {
        var closed = new Http2ClosedStreams();
        closed.OnGap(1, 4); // the peer opened 5 first

        Assert.Equal(Http2ClosedStreamKind.NeverOpened, closed.Classify(1, 0));
        Assert.Equal(Http2ClosedStreamKind.NeverOpened, closed.Classify(3, 0));
        Assert.Equal(Http2ClosedStreamKind.Closed, closed.Classify(5, 0));
    }

    [Fact]
    public void Classify_MoreGapsThanRemembered_OldestCountClosed()
    {
        var closed = new Http2ClosedStreams();
        for (int i = 0; i <= Http2ClosedStreams.RememberedGaps; i++)
        {
            closed.OnGap((10 * i) + 1, (10 * i) + 4);
        }

        Assert.Equal(Http2ClosedStreamKind.Closed, closed.Classify(3, 0));
        Assert.Equal(Http2ClosedStreamKind.NeverOpened, closed.Classify(13, 0));
    }
}
