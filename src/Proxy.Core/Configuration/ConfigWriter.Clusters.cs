using System.Text.Json;

namespace Proxy.Configuration;

/// <summary>Cluster and mesh sections of the JSON writer.</summary>
public static partial class ConfigWriter
{
    private static void WriteCluster(Utf8JsonWriter w, ClusterConfig cluster)
    {
        w.WriteStartObject();
        w.WriteString("name", cluster.Name);
        w.WriteStartArray("endpoints");
        foreach (var endpoint in cluster.Endpoints)
        {
            w.WriteStartObject();
            w.WriteString("address", endpoint.Address.ToString());
            w.WriteNumber("weight", endpoint.Weight);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("protocol", cluster.Protocol switch { ClusterProtocol.Http2 => "http2", ClusterProtocol.Downstream => "downstream", _ => "http1" });
        w.WriteString("load_balancer", cluster.LoadBalancer);
        OptionalString(w, "hash_on", cluster.HashOn);
        Duration(w, "connect_timeout", cluster.ConnectTimeout);
        Duration(w, "idle_timeout", cluster.IdleTimeout);
        w.WriteStartObject("pool");
        w.WriteNumber("max_idle", cluster.Pool.MaxIdle);
        Duration(w, "idle_timeout", cluster.Pool.IdleTimeout);
        w.WriteNumber("max_requests_per_connection", cluster.Pool.MaxRequestsPerConnection);
        w.WriteEndObject();
        if (cluster.Tls is { } tls)
        {
            w.WriteStartObject("tls");
            OptionalString(w, "sni", tls.Sni);
            OptionalString(w, "ca", tls.Ca);
            OptionalString(w, "cert", tls.Cert);
            OptionalString(w, "key", tls.Key);
            w.WriteBoolean("insecure_skip_verify", tls.InsecureSkipVerify);
            Strings(w, "alpn", tls.Alpn);
            w.WriteEndObject();
        }
        if (cluster.CircuitBreaker is { } cb)
        {
            w.WriteStartObject("circuit_breaker");
            w.WriteNumber("max_connections", cb.MaxConnections);
            w.WriteNumber("max_pending_requests", cb.MaxPendingRequests);
            w.WriteNumber("max_requests", cb.MaxRequests);
            w.WriteNumber("max_retries", cb.MaxRetries);
            w.WriteEndObject();
        }
        if (cluster.OutlierDetection is { } od)
        {
            w.WriteStartObject("outlier_detection");
            w.WriteNumber("consecutive_5xx", od.Consecutive5xx);
            w.WriteNumber("consecutive_gateway_errors", od.ConsecutiveGatewayErrors);
            Duration(w, "interval", od.Interval);
            Duration(w, "base_ejection_time", od.BaseEjectionTime);
            w.WriteNumber("max_ejection_percent", od.MaxEjectionPercent);
            w.WriteEndObject();
        }
        if (cluster.HealthCheck is { } hc)
        {
            w.WriteStartObject("health_check");
            w.WriteString("type", hc.Type == HealthCheckType.Tcp ? "tcp" : "http");
            OptionalString(w, "path", hc.Path);
            Duration(w, "interval", hc.Interval);
            Duration(w, "timeout", hc.Timeout);
            w.WriteNumber("healthy_threshold", hc.HealthyThreshold);
            w.WriteNumber("unhealthy_threshold", hc.UnhealthyThreshold);
            Numbers(w, "expected_statuses", hc.ExpectedStatuses);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteMesh(Utf8JsonWriter w, MeshConfig mesh)
    {
        w.WriteStartObject("mesh");
        w.WriteStartObject("identity");
        w.WriteString("cert", mesh.Identity.Cert);
        w.WriteString("key", mesh.Identity.Key);
        w.WriteString("ca", mesh.Identity.Ca);
        w.WriteEndObject();
        Duration(w, "detect_timeout", mesh.DetectTimeout);
        Numbers(w, "opaque_ports", mesh.OpaquePorts);
        w.WriteStartObject("inbound");
        w.WriteNumber("port", mesh.Inbound.Port);
        w.WriteString("mode", mesh.Inbound.Mode == MeshInboundMode.Permissive ? "permissive" : "strict");
        w.WriteString("app_address", mesh.Inbound.AppAddress);
        w.WriteStartArray("authorization");
        foreach (var rule in mesh.Inbound.Authorization)
        {
            w.WriteStartObject();
            w.WriteStartObject(rule.Action == AuthorizationAction.Deny ? "deny" : "allow");
            Strings(w, "principals", rule.Principals);
            Numbers(w, "ports", rule.Ports);
            Strings(w, "methods", rule.Methods);
            Strings(w, "paths", rule.Paths);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartObject("workload");
        OptionalString(w, "name", mesh.Workload.Name);
        OptionalString(w, "namespace", mesh.Workload.Namespace);
        OptionalString(w, "app", mesh.Workload.App);
        OptionalString(w, "version", mesh.Workload.Version);
        w.WriteEndObject();
        w.WriteStartObject("outbound");
        w.WriteNumber("port", mesh.Outbound.Port);
        w.WriteStartArray("services");
        foreach (var service in mesh.Outbound.Services)
        {
            w.WriteStartObject();
            w.WriteString("address", service.Address.ToString());
            w.WriteString("cluster", service.Cluster);
            OptionalString(w, "host", service.Host);
            OptionalString(w, "identity", service.Identity);
            w.WriteString("protocol", service.Protocol.ToString().ToLowerInvariant());
            OptionalDuration(w, "timeout", service.Timeout);
            if (service.Protocol != MeshServiceProtocol.Tcp)
            {
                w.WriteBoolean("multiplex_http1", service.MultiplexHttp1);
            }

            WriteRetries(w, service.Retries);
            if (service.Routes.Count > 0)
            {
                w.WriteStartArray("routes");
                foreach (var route in service.Routes)
                {
                    WriteRoute(w, route);
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteEndObject();
    }
}
