using System.Text;
using Proxy.Configuration;
using Proxy.Resilience;
using Proxy.Tests.LoadBalancing;

namespace Proxy.Tests.Resilience;

public class FaultInjectorTests
{
    private static FaultConfig Config(double delayPercent, double abortPercent) => new()
    {
        Delay = new FaultDelayConfig { Duration = TimeSpan.FromMilliseconds(300), Percent = delayPercent },
        Abort = new FaultAbortConfig { Status = 503, Percent = abortPercent },
    };

    [Fact]
    public void Decide_Percent_SampledByRandom()
    {
        // Draws: 2499 (< 25 % of 10000: delay), then 2500 (not < 25 %: no abort).
        var random = new ScriptedRandom(2499, 2500);
        var injector = FaultInjector.FromConfig(Config(25, 25), random);
        var decision = injector.Decide(true, default, default);
        Assert.Equal(TimeSpan.FromMilliseconds(300), decision.Delay);
        Assert.Equal(0, decision.AbortStatus);
        Assert.Equal(2, random.Draws);
    }

    [Fact]
    public void Decide_HundredAndZeroPercent_NoDraws()
    {
        var random = new ScriptedRandom(0);
        var decision = FaultInjector.FromConfig(Config(100, 0), random).Decide(true, default, default);
        Assert.Equal(new FaultDecision(TimeSpan.FromMilliseconds(300), 0), decision);
        Assert.Equal(0, random.Draws);
    }

    [Fact]
    public void Decide_HeadersDoNotMatch_None()
    {
        var decision = FaultInjector.FromConfig(Config(100, 100)).Decide(false, "50"u8, "500"u8);
        Assert.True(decision.IsNone);
    }

    [Theory]
    [InlineData("250", "", 250, 0)]
    [InlineData("", "418", 0, 418)]
    [InlineData("10", "503", 10, 503)]
    [InlineData("abc", "99", 0, 0)]
    [InlineData("60001", "600", 0, 0)]
    [InlineData(" 5 ", "200", 5, 200)]
    public void Decide_RequestHeaders_OverrideAndAlwaysApply(string delay, string abort, int delayMs, int status)
    {
        var injector = FaultInjector.FromConfig(Config(0, 0), new ScriptedRandom(9999));
        var decision = injector.Decide(true, Encoding.ASCII.GetBytes(delay), Encoding.ASCII.GetBytes(abort));
        Assert.Equal(TimeSpan.FromMilliseconds(delayMs), decision.Delay);
        Assert.Equal(status, decision.AbortStatus);
    }

    [Fact]
    public void MirrorPolicy_Percent_Sampled()
    {
        var random = new ScriptedRandom(999, 1000);
        var mirror = MirrorPolicy.FromConfig(new MirrorConfig { Cluster = "shadow", Percent = 10 }, random);
        Assert.True(mirror.ShouldMirror());
        Assert.False(mirror.ShouldMirror());
        Assert.Equal("shadow", mirror.Cluster);
        Assert.True(new MirrorPolicy("x", 100, random).ShouldMirror());
        Assert.False(new MirrorPolicy("x", 0, random).ShouldMirror());
        Assert.Equal(2, random.Draws);
    }
}
