using Proxy.Configuration;
using Proxy.Resilience;
using Proxy.Tests.LoadBalancing;

namespace Proxy.Tests.Resilience;

public class OutlierDetectorTests
{
    private static (EndpointHealth[] Health, OutlierDetector Detector, ManualClock Clock, ClusterResilienceMetrics Metrics) Create(int endpoints, OutlierDetectionConfig config)
    {
        var clock = new ManualClock();
        var health = TestEndpoints.Equal(endpoints).Select(e => new EndpointHealth(e)).ToArray();
        var metrics = ClusterResilienceMetrics.Detached();
        return (health, new OutlierDetector(health, config, clock.Read, metrics), clock, metrics);
    }

    [Fact]
    public void Report_Consecutive5xx_Ejects()
    {
        var (health, detector, _, metrics) = Create(10, new OutlierDetectionConfig { Consecutive5xx = 3 });
        Assert.False(detector.Report(health[0], AttemptOutcome.Response(500)));
        Assert.False(detector.Report(health[0], AttemptOutcome.Response(503)));
        Assert.True(detector.Report(health[0], AttemptOutcome.Response(500)));
        Assert.True(health[0].IsEjected);
        Assert.False(health[0].Endpoint.IsHealthy);
        Assert.Equal(1, metrics.Ejections5xx.Value);
        Assert.Equal(1, metrics.Ejected.Value);
    }

    [Fact]
    public void Report_SuccessBetween_ResetsStreak()
    {
        var (health, detector, _, _) = Create(10, new OutlierDetectionConfig { Consecutive5xx = 2 });
        detector.Report(health[0], AttemptOutcome.Response(500));
        detector.Report(health[0], AttemptOutcome.Response(200));
        Assert.False(detector.Report(health[0], AttemptOutcome.Response(500)));
        Assert.True(health[0].Endpoint.IsHealthy);
    }

    [Fact]
    public void Report_GatewayErrors_EjectWhen5xxDisabled()
    {
        var (health, detector, _, metrics) = Create(10, new OutlierDetectionConfig { Consecutive5xx = 0, ConsecutiveGatewayErrors = 2 });
        Assert.False(detector.Report(health[1], AttemptOutcome.ConnectFailure));
        Assert.False(detector.Report(health[1], AttemptOutcome.Response(500)));
        Assert.False(detector.Report(health[1], AttemptOutcome.Response(502)));
        Assert.True(detector.Report(health[1], AttemptOutcome.PerTryTimeout));
        Assert.Equal(1, metrics.EjectionsGatewayErrors.Value);
    }

    [Fact]
    public void Tick_AfterEjectionTime_UnejectsAndMultiplierGrows()
    {
        var config = new OutlierDetectionConfig { Consecutive5xx = 1, BaseEjectionTime = TimeSpan.FromSeconds(30), Interval = TimeSpan.FromHours(1) };
        var (health, detector, clock, _) = Create(10, config);
        detector.Report(health[0], AttemptOutcome.Response(500));
        clock.Advance(TimeSpan.FromSeconds(29));
        detector.Tick();
        Assert.True(health[0].IsEjected);
        clock.Advance(TimeSpan.FromSeconds(1));
        detector.Tick();
        Assert.False(health[0].IsEjected);
        Assert.True(health[0].Endpoint.IsHealthy);

        // Second ejection lasts twice as long.
        detector.Report(health[0], AttemptOutcome.Response(500));
        Assert.Equal(2, health[0].Ejections);
        clock.Advance(TimeSpan.FromSeconds(59));
        detector.MaybeExpire();
        Assert.True(health[0].IsEjected);
        clock.Advance(TimeSpan.FromSeconds(1));
        detector.MaybeExpire();
        Assert.False(health[0].IsEjected);
        Assert.Equal(0, detector.EjectedCount);
    }

    [Fact]
    public void Tick_EachHealthyInterval_LowersMultiplier()
    {
        var config = new OutlierDetectionConfig { Consecutive5xx = 1, BaseEjectionTime = TimeSpan.FromSeconds(1), Interval = TimeSpan.FromSeconds(10) };
        var (health, detector, clock, _) = Create(10, config);
        detector.Report(health[0], AttemptOutcome.Response(500));
        clock.Advance(TimeSpan.FromSeconds(2));
        detector.Tick();
        Assert.Equal(1, health[0].Ejections);
        clock.Advance(TimeSpan.FromSeconds(10));
        detector.Tick();
        Assert.Equal(0, health[0].Ejections);
    }

    [Fact]
    public void Report_MaxEjectionPercent_CapsEjections()
    {
        var config = new OutlierDetectionConfig { Consecutive5xx = 1, MaxEjectionPercent = 20 };
        var (health, detector, _, metrics) = Create(10, config);
        for (int i = 0; i < 5; i++)
        {
            detector.Report(health[i], AttemptOutcome.Response(500));
        }

        Assert.Equal(2, detector.EjectedCount);
        Assert.Equal(3, metrics.EjectionsSkipped.Value);
    }

    [Fact]
    public void Report_TinyPercent_StillEjectsOne()
    {
        var (health, detector, _, _) = Create(3, new OutlierDetectionConfig { Consecutive5xx = 1, MaxEjectionPercent = 10 });
        Assert.True(detector.Report(health[0], AttemptOutcome.Response(500)));
        Assert.False(detector.Report(health[1], AttemptOutcome.Response(500)));
    }

    [Fact]
    public void Report_LastServingEndpoint_NeverEjected()
    {
        var (health, detector, _, _) = Create(2, new OutlierDetectionConfig { Consecutive5xx = 1, MaxEjectionPercent = 100 });
        health[1].SetActiveUnhealthy(true);
        Assert.False(detector.Report(health[0], AttemptOutcome.Response(500)));
        Assert.True(health[0].Endpoint.IsHealthy);
    }

    [Fact]
    public void EndpointHealth_CheckAndEjection_DoNotFight()
    {
        var health = new EndpointHealth(TestEndpoints.Create(0));
        Assert.True(health.Endpoint.IsHealthy);
        health.SetActiveUnhealthy(true);
        Assert.True(health.SetEjected(true));
        Assert.False(health.SetEjected(true));

        // A passing health check does not end an ejection, and an expiring ejection does not end a failing check.
        health.SetActiveUnhealthy(false);
        Assert.False(health.Endpoint.IsHealthy);
        health.SetActiveUnhealthy(true);
        health.SetEjected(false);
        Assert.False(health.Endpoint.IsHealthy);
        health.SetActiveUnhealthy(false);
        Assert.True(health.Endpoint.IsHealthy);
        Assert.True(health.IsAvailable);
    }

    [Fact]
    public void Report_ConcurrentFailures_EjectsOnce()
    {
        var (health, detector, _, metrics) = Create(10, new OutlierDetectionConfig { Consecutive5xx = 5, MaxEjectionPercent = 100 });
        int ejections = 0;
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 1000; i++)
            {
                if (detector.Report(health[3], AttemptOutcome.Response(500)))
                {
                    Interlocked.Increment(ref ejections);
                }
            }
        });
        Assert.Equal(1, ejections);
        Assert.Equal(1, detector.EjectedCount);
        Assert.Equal(1, metrics.Ejected.Value);
    }
}
