using Proxy.Configuration;

namespace Proxy.Resilience;

/// <summary>
/// Active health checking of one cluster: every interval, probes all endpoints concurrently with
/// <see cref="HealthProbe"/>, and after <c>unhealthy_threshold</c> consecutive failures marks an endpoint
/// unhealthy (after <c>healthy_threshold</c> successes healthy again) through its <see cref="EndpointHealth"/>.
/// Endpoints start healthy, so traffic flows before the first round. Runs on its own task, never on the request path.
/// </summary>
public sealed class HealthChecker : IAsyncDisposable
{
    private readonly EndpointHealth[] _endpoints;
    private readonly HealthCheckConfig _config;
    private readonly HealthProbe _probe;
    private readonly ClusterResilienceMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly bool _probeUsesTls;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;
    private long _rounds;

    /// <param name="tls">The cluster's TLS policy (probes then go over TLS); null for plain text.</param>
    public HealthChecker(EndpointHealth[] endpoints, HealthCheckConfig config, ClusterResilienceMetrics? metrics = null, TimeProvider? time = null, Tls.TlsClientPolicy? tls = null)
    {
        _endpoints = endpoints;
        _config = config;
        _probe = new HealthProbe(config, tls);
        _probeUsesTls = tls is not null;
        _metrics = metrics ?? ClusterResilienceMetrics.Detached();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Completed rounds (every endpoint probed once).</summary>
    public long Rounds => Interlocked.Read(ref _rounds);

    /// <summary>Starts probing every interval, the first round at once.</summary>
    public void Start()
    {
        if (_loop is null)
        {
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>Probes every endpoint once, concurrently, and applies the results; returns when all are done.</summary>
    public async Task CheckAllAsync(CancellationToken cancellationToken = default)
    {
        var probes = new Task[_endpoints.Length];
        for (int i = 0; i < probes.Length; i++)
        {
            probes[i] = CheckAsync(_endpoints[i], cancellationToken);
        }

        await Task.WhenAll(probes).ConfigureAwait(false);
        Interlocked.Increment(ref _rounds);
    }

    /// <summary>Applies one probe result to the endpoint's streaks and thresholds; true when its health changed.</summary>
    public bool Apply(EndpointHealth endpoint, HealthProbeResult result)
    {
        switch (result)
        {
            case HealthProbeResult.Healthy:
                _metrics.HealthCheckSuccess.Increment();
                break;
            case HealthProbeResult.Timeout:
                _metrics.HealthCheckTimeout.Increment();
                break;
            default:
                _metrics.HealthCheckFailure.Increment();
                break;
        }

        if (result == HealthProbeResult.Healthy)
        {
            endpoint.CheckFailures = 0;
            endpoint.CheckSuccesses++;
            if (endpoint.IsActiveUnhealthy && endpoint.CheckSuccesses >= _config.HealthyThreshold && endpoint.SetActiveUnhealthy(false))
            {
                _metrics.BecameHealthy.Increment();
                endpoint.Endpoint.Events.HealthChanged(endpoint.Endpoint, healthy: true, $"{endpoint.CheckSuccesses} health checks passed in a row");
                return true;
            }
        }
        else
        {
            endpoint.CheckSuccesses = 0;
            endpoint.CheckFailures++;
            if (!endpoint.IsActiveUnhealthy && endpoint.CheckFailures >= _config.UnhealthyThreshold && endpoint.SetActiveUnhealthy(true))
            {
                _metrics.BecameUnhealthy.Increment();
                endpoint.Endpoint.Events.HealthChanged(endpoint.Endpoint, healthy: false, $"{endpoint.CheckFailures} health checks failed in a row, the last one: {Describe(result)}");
                return true;
            }
        }

        return false;
    }

    private string Describe(HealthProbeResult result) => result switch
    {
        HealthProbeResult.UnexpectedStatus => $"{_config.Path ?? "/"} answered with a status that is not expected",
        HealthProbeResult.ConnectFailed => _config.Type == HealthCheckType.Tcp || _probeUsesTls
            ? "the connect (or TLS handshake) failed"
            : "the connect failed",
        HealthProbeResult.Timeout => $"no answer within {_config.Timeout.TotalMilliseconds:0} ms",
        _ => "the answer was not an HTTP/1.x response",
    };

    /// <summary>Stops the timer and waits for the round in progress.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The loop ends by cancellation; that is the expected way out.
            }
        }

        _stop.Dispose();
    }

    private async Task CheckAsync(EndpointHealth endpoint, CancellationToken cancellationToken)
    {
        var result = await _probe.ProbeAsync(endpoint.Endpoint.Address, endpoint.Endpoint.Authority, cancellationToken).ConfigureAwait(false);
        Apply(endpoint, result);
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            await CheckAllAsync(token).ConfigureAwait(false);
            await Task.Delay(_config.Interval, _time, token).ConfigureAwait(false);
        }
    }
}
