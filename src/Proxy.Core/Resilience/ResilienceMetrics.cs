using Proxy.Observability.Metrics;

namespace Proxy.Resilience;

/// <summary>
/// The metric families of retries, retry budgets, circuit breakers, outlier detection, health checks, rate
/// limits, fault injection, mirroring, the access log and trace export. Registered once per process
/// (next to <c>ProxyMetrics</c>); per-cluster children are resolved once into <see cref="ClusterResilienceMetrics"/>.
/// </summary>
public sealed class ResilienceMetrics
{
    public ResilienceMetrics(MetricsRegistry registry)
    {
        Retries = registry.Counter("proxy_retries_total", "Retries sent upstream, by the condition that caused them.", "cluster", "reason");
        RetriesRefused = registry.Counter("proxy_retries_refused_total", "Retriable failures not retried, by why (attempts, budget, overflow, not_idempotent, body_too_large).", "cluster", "reason");
        RetryBudgetExhausted = registry.Counter("proxy_retry_budget_exhausted_total", "Retries refused because the route's retry budget was spent.", "listener", "route");
        CircuitBreakerOverflows = registry.Counter("proxy_circuit_breaker_overflows_total", "Requests failed fast (503 UO) because a circuit breaker limit was reached.", "cluster", "resource");
        OutlierEjections = registry.Counter("proxy_outlier_ejections_total", "Endpoints ejected by outlier detection, by cause.", "cluster", "reason");
        OutlierEjectionsSkipped = registry.Counter("proxy_outlier_ejections_skipped_total", "Ejections not made because max_ejection_percent (or the last serving endpoint) forbade them.", "cluster");
        OutlierEjected = registry.Gauge("proxy_outlier_ejected_endpoints", "Endpoints ejected now.", "cluster");
        HealthChecks = registry.Counter("proxy_health_checks_total", "Active health checks, by result (success, failure, timeout).", "cluster", "result");
        HealthCheckTransitions = registry.Counter("proxy_health_check_transitions_total", "Endpoints changing active health state, by the new state (healthy, unhealthy).", "cluster", "state");
        RateLimited = registry.Counter("proxy_rate_limited_total", "Requests answered 429 by a route's rate limit.", "listener", "route");
        FaultsInjected = registry.Counter("proxy_faults_injected_total", "Faults injected, by kind (delay, abort).", "listener", "route", "kind");
        RbacDenied = registry.Counter("proxy_rbac_denied_total", "Requests answered 403 (kind http) and connections closed (kind network) by a listener's RBAC filters.", "listener", "kind");
        Mirrored = registry.Counter("proxy_mirrored_requests_total", "Requests copied to a mirror cluster.", "listener", "route");
        AccessLogEntries = registry.Counter("proxy_access_log_entries_total", "Access log entries, by result (written, dropped).", "result");
        TraceSpans = registry.Counter("proxy_trace_spans_total", "Trace spans, by result (exported, dropped, failed).", "result");
    }

    public CounterFamily Retries { get; }

    public CounterFamily RbacDenied { get; }

    public CounterFamily RetriesRefused { get; }

    public CounterFamily RetryBudgetExhausted { get; }

    public CounterFamily CircuitBreakerOverflows { get; }

    public CounterFamily OutlierEjections { get; }

    public CounterFamily OutlierEjectionsSkipped { get; }

    public GaugeFamily OutlierEjected { get; }

    public CounterFamily HealthChecks { get; }

    public CounterFamily HealthCheckTransitions { get; }

    public CounterFamily RateLimited { get; }

    public CounterFamily FaultsInjected { get; }

    public CounterFamily Mirrored { get; }

    public CounterFamily AccessLogEntries { get; }

    public CounterFamily TraceSpans { get; }
}
