using System.Diagnostics;
using Proxy.Configuration;
using Proxy.Resilience;
using Proxy.Tests.LoadBalancing;

namespace Proxy.Tests.Resilience;

public class RetryPolicyTests
{
    private static RetryPolicy Policy(params string[] retryOn) => RetryPolicy.FromConfig(new RetryConfig
    {
        Attempts = 2,
        RetryOn = retryOn,
        StatusCodes = [409, 429],
    });

    [Theory]
    [InlineData("connect-failure", true, false, false, false)]
    [InlineData("reset", false, true, false, false)]
    [InlineData("5xx", true, true, true, true)]
    [InlineData("gateway-error", true, false, true, false)]
    public void Decide_FailureKinds_FollowRetryOn(string retryOn, bool connect, bool reset, bool timeout, bool status500)
    {
        var policy = Policy(retryOn);
        Assert.Equal(connect, policy.Decide(AttemptOutcome.ConnectFailure, 0, true, true) == RetryDecision.Retry);
        Assert.Equal(reset, policy.Decide(AttemptOutcome.Reset, 0, true, true) == RetryDecision.Retry);
        Assert.Equal(timeout, policy.Decide(AttemptOutcome.PerTryTimeout, 0, true, true) == RetryDecision.Retry);
        Assert.Equal(status500, policy.Decide(AttemptOutcome.Response(500), 0, true, true) == RetryDecision.Retry);
    }

    [Theory]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(500, false)]
    [InlineData(200, false)]
    public void Decide_GatewayError_OnlyGatewayStatuses(int status, bool retried)
    {
        Assert.Equal(retried, Policy("gateway-error").Decide(AttemptOutcome.Response(status), 0, true, true) == RetryDecision.Retry);
    }

    [Theory]
    [InlineData(409, true)]
    [InlineData(429, true)]
    [InlineData(404, false)]
    public void Decide_RetriableStatusCodes_ListedOnly(int status, bool retried)
    {
        Assert.Equal(retried, Policy("retriable-status-codes").Decide(AttemptOutcome.Response(status), 0, true, true) == RetryDecision.Retry);
    }

    [Theory]
    [InlineData("cancelled", 1)]
    [InlineData("deadline-exceeded", 4)]
    [InlineData("resource-exhausted", 8)]
    [InlineData("unavailable", 14)]
    public void Decide_GrpcStatus_RetriedByItsName(string retryOn, int grpcStatus)
    {
        var policy = Policy(retryOn);
        Assert.Equal(RetryDecision.Retry, policy.Decide(AttemptOutcome.Response(200, grpcStatus), 0, true, true));
        Assert.Equal(RetryDecision.NotRetriable, policy.Decide(AttemptOutcome.Response(200, 0), 0, true, true));
        Assert.Equal(RetryDecision.NotRetriable, policy.Decide(AttemptOutcome.Response(200, 2), 0, true, true));
        Assert.Equal(RetryDecision.NotRetriable, policy.Decide(AttemptOutcome.Response(200), 0, true, true));
    }

    [Fact]
    public void Decide_AttemptsUsed_Exhausted()
    {
        var policy = Policy("5xx");
        Assert.Equal(RetryDecision.Retry, policy.Decide(AttemptOutcome.Response(500), 1, true, true));
        Assert.Equal(RetryDecision.AttemptsExhausted, policy.Decide(AttemptOutcome.Response(500), 2, true, true));
    }

    [Fact]
    public void Decide_NonIdempotent_OnlyConnectFailureRetried()
    {
        var policy = Policy("5xx", "reset", "connect-failure");
        Assert.Equal(RetryDecision.Retry, policy.Decide(AttemptOutcome.ConnectFailure, 0, false, true));
        Assert.Equal(RetryDecision.NotIdempotent, policy.Decide(AttemptOutcome.Reset, 0, false, true));
        Assert.Equal(RetryDecision.NotIdempotent, policy.Decide(AttemptOutcome.PerTryTimeout, 0, false, true));
        Assert.Equal(RetryDecision.NotIdempotent, policy.Decide(AttemptOutcome.Response(503), 0, false, true));
    }

    [Fact]
    public void Decide_BodyNotReplayable_NeverRetried()
    {
        Assert.Equal(RetryDecision.BodyNotReplayable, Policy("connect-failure").Decide(AttemptOutcome.ConnectFailure, 0, true, false));
    }

    [Fact]
    public void Decide_Success_NotRetriable()
    {
        Assert.Equal(RetryDecision.NotRetriable, Policy("5xx", "reset").Decide(AttemptOutcome.Response(200), 0, true, true));
    }

    [Fact]
    public void Backoff_FullJitter_BoundedByDoublingCeiling()
    {
        var policy = Policy("5xx");
        // Next(max) returns value % max: ulong.MaxValue - 0 .. picks the top of each range below.
        var top = new TopRandom();
        Assert.Equal(TimeSpan.FromMilliseconds(25), policy.Backoff(1, top));
        Assert.Equal(TimeSpan.FromMilliseconds(50), policy.Backoff(2, top));
        Assert.Equal(TimeSpan.FromMilliseconds(100), policy.Backoff(3, top));
        Assert.Equal(TimeSpan.FromMilliseconds(200), policy.Backoff(4, top));
        Assert.Equal(TimeSpan.FromMilliseconds(250), policy.Backoff(5, top));
        Assert.Equal(TimeSpan.FromMilliseconds(250), policy.Backoff(60, top));
        Assert.Equal(TimeSpan.Zero, policy.Backoff(3, new ScriptedRandom(0)));
    }

    [Fact]
    public void Backoff_ScriptedRandom_UniformWithinCeiling()
    {
        var policy = Policy("5xx");
        long ceiling = TimeSpan.FromMilliseconds(100).Ticks;
        var random = new ScriptedRandom((ulong)(ceiling / 2));
        Assert.Equal(TimeSpan.FromTicks(ceiling / 2), policy.Backoff(3, random));
    }

    [Fact]
    public void PerTryDeadline_WithAndWithoutTimeout()
    {
        var with = RetryPolicy.FromConfig(new RetryConfig { PerTryTimeout = TimeSpan.FromSeconds(2) });
        Assert.Equal(1000 + (2 * Stopwatch.Frequency), with.PerTryDeadline(1000));
        Assert.Equal(long.MaxValue, Policy("5xx").PerTryDeadline(1000));
    }

    [Theory]
    [InlineData("14", 14)]
    [InlineData(" 0 ", 0)]
    [InlineData("", AttemptOutcome.NoGrpcStatus)]
    [InlineData("+1", AttemptOutcome.NoGrpcStatus)]
    [InlineData("1a", AttemptOutcome.NoGrpcStatus)]
    [InlineData("1234", AttemptOutcome.NoGrpcStatus)]
    public void ParseGrpcStatus_Values(string text, int expected)
    {
        Assert.Equal(expected, RetryPolicy.ParseGrpcStatus(System.Text.Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void RetryOnNames_UnknownIgnored()
    {
        Assert.Equal(RetryOn.Reset | RetryOn.GrpcUnavailable, RetryOnNames.Parse(["reset", "bogus", "unavailable"]));
        Assert.False(RetryOnNames.TryParse("bogus", out _));
    }

    private sealed class TopRandom : Proxy.LoadBalancing.IRandomSource
    {
        public long Next(long maxExclusive) => maxExclusive - 1;

        public ulong NextUInt64() => ulong.MaxValue;
    }

    [Theory]
    [InlineData("refused-stream", true)]
    [InlineData("reset", true)]
    [InlineData("5xx", true)]
    [InlineData("connect-failure", false)]
    [InlineData("gateway-error", false)]
    public void Decide_RefusedStream_RetriedUnderRefusedStreamResetAnd5xx(string retryOn, bool retried) =>
        Assert.Equal(retried, Policy(retryOn).Decide(AttemptOutcome.RefusedStream, 0, idempotent: true, bodyReplayable: true) == RetryDecision.Retry);

    [Fact]
    public void Decide_RefusedStreamOfNonIdempotentRequest_Retried()
    {
        // RFC 9113 8.7: a refused stream was not processed, so even a POST is safe to send again.
        Assert.False(AttemptOutcome.RefusedStream.MayHaveReachedUpstream);
        Assert.Equal(RetryDecision.Retry, Policy("refused-stream").Decide(AttemptOutcome.RefusedStream, 0, idempotent: false, bodyReplayable: true));
        Assert.Equal(RetryDecision.NotIdempotent, Policy("reset").Decide(AttemptOutcome.Reset, 0, idempotent: false, bodyReplayable: true));
    }

    [Fact]
    public void Classify_RefusedStream_CountedUnderItsOwnReason()
    {
        var metrics = ClusterResilienceMetrics.Detached();
        var policy = Policy("refused-stream", "5xx");
        metrics.CountRetry(policy.Classify(AttemptOutcome.RefusedStream) & policy.RetryOn);
        Assert.Equal(1, metrics.RetryRefusedStream.Value);
        Assert.Equal(0, metrics.Retry5xx.Value);
    }
}
