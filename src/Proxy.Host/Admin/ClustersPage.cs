using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Proxy.Runtime;
using Proxy.Upstream;

namespace Proxy.Host.Admin;

/// <summary>
/// GET /clusters: every endpoint of every cluster with its health and load, as Envoy's /clusters
/// lines (<c>cluster::endpoint::key=value</c>) or, with <c>?format=json</c>, as JSON.
/// </summary>
public static class ClustersPage
{
    /// <summary>
    /// The active health check's verdict: <c>none</c> for a cluster without <c>health_check</c>, which
    /// must not look as if a check had passed.
    /// </summary>
    private static string ActiveCheck(Cluster cluster, Endpoint endpoint) =>
        cluster.Resilience.HealthChecker is null ? "none" : endpoint.Health.IsActiveUnhealthy ? "failed" : "passed";

    public static AdminResponse Render(ProxySnapshot? snapshot, bool json)
    {
        if (snapshot is null)
        {
            return AdminResponse.Text(503, "no configuration loaded\n");
        }

        return json ? AdminResponse.Json(200, AdminJson.Write(w => WriteJson(w, snapshot))) : AdminResponse.Text(200, RenderText(snapshot));
    }

    private static string RenderText(ProxySnapshot snapshot)
    {
        var output = new StringBuilder();
        long now = Stopwatch.GetTimestamp();
        foreach (var cluster in snapshot.Clusters.Values)
        {
            foreach (var endpoint in cluster.Endpoints)
            {
                var health = endpoint.Health;
                output.Append(cluster.Name).Append("::").Append(endpoint.Authority)
                      .Append("::healthy=").Append(endpoint.IsHealthy ? "true" : "false")
                      .Append("::active_check=").Append(ActiveCheck(cluster, endpoint))
                      .Append("::ejected=").Append(health.IsEjected ? "true" : "false")
                      .Append("::ejections=").Append(health.Ejections)
                      .Append("::weight=").Append(endpoint.Weight)
                      .Append("::in_flight=").Append(endpoint.InFlight)
                      .Append("::latency_ewma_ms=").Append(endpoint.LatencyEstimateMs(now).ToString("0.###", CultureInfo.InvariantCulture))
                      .Append("::pooled_idle=").Append(endpoint.HasPool ? endpoint.Pool.IdleCount : 0)
                      .Append('\n');
            }
        }

        return output.ToString();
    }

    private static void WriteJson(Utf8JsonWriter w, ProxySnapshot snapshot)
    {
        long now = Stopwatch.GetTimestamp();
        w.WriteStartObject();
        w.WriteStartArray("cluster_statuses");
        foreach (var cluster in snapshot.Clusters.Values)
        {
            w.WriteStartObject();
            w.WriteString("name", cluster.Name);
            w.WriteBoolean("health_checked", cluster.Resilience.HealthChecker is not null);
            w.WriteBoolean("outlier_detection", cluster.Resilience.Outliers is not null);
            w.WriteStartArray("host_statuses");
            foreach (var endpoint in cluster.Endpoints)
            {
                var health = endpoint.Health;
                w.WriteStartObject();
                w.WriteString("address", endpoint.Authority);
                w.WriteBoolean("healthy", endpoint.IsHealthy);
                w.WriteString("active_check", ActiveCheck(cluster, endpoint));
                w.WriteBoolean("ejected", health.IsEjected);
                w.WriteNumber("ejections", health.Ejections);
                w.WriteNumber("weight", endpoint.Weight);
                w.WriteNumber("in_flight", endpoint.InFlight);
                w.WriteNumber("latency_ewma_ms", Math.Round(endpoint.LatencyEstimateMs(now), 3));
                w.WriteNumber("pooled_idle", endpoint.HasPool ? endpoint.Pool.IdleCount : 0);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }
}
