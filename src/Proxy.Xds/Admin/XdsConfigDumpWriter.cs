using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds.Admin;

/// <summary>
/// The xDS part of /config_dump in Envoy's layout (envoy.admin.v3.ConfigDump's <c>configs</c>): a
/// <c>ClustersConfigDump</c> with the file's clusters as <c>static_clusters</c> and the server's as
/// <c>dynamic_active_clusters</c> (version_info, last_updated, cluster), and an <c>EndpointsConfigDump</c> with the
/// load assignments. Resources are written by Google.Protobuf's JsonFormatter (proto3 JSON, as Envoy writes them).
/// </summary>
public static class XdsConfigDumpWriter
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default
        .WithFormatDefaultValues(false)
        .WithPreserveProtoFieldNames(true) // snake_case field names (connect_timeout, lb_endpoints), as Envoy's dump writes them
        .WithTypeRegistry(TypeRegistry.FromMessages(
            XdsCluster.Descriptor,
            Envoy.Config.Endpoint.V3.ClusterLoadAssignment.Descriptor,
            Envoy.Extensions.Upstreams.Http.V3.HttpProtocolOptions.Descriptor,
            Envoy.Extensions.TransportSockets.Tls.V3.UpstreamTlsContext.Descriptor,
            Envoy.Extensions.TransportSockets.Tls.V3.Secret.Descriptor,
            Envoy.Extensions.TransportSockets.RawBuffer.V3.RawBuffer.Descriptor)));

    /// <summary>Writes the <c>configs</c> array's items.</summary>
    public static void WriteConfigs(Utf8JsonWriter w, XdsClusterStore store, string clustersVersion, IReadOnlyList<ClusterConfig> fileClusters)
    {
        w.WriteStartObject();
        w.WriteString("@type", "type.googleapis.com/envoy.admin.v3.ClustersConfigDump");
        w.WriteString("version_info", clustersVersion);
        w.WriteStartArray("static_clusters");
        foreach (var cluster in fileClusters)
        {
            // The file's clusters in the proxy's own terms: name and endpoints, as an Envoy STATIC cluster.
            w.WriteStartObject();
            w.WriteStartObject("cluster");
            w.WriteString("@type", XdsTypeUrls.Cluster);
            w.WriteString("name", cluster.Name);
            w.WriteString("type", "STATIC");
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("dynamic_active_clusters");
        foreach (var (_, cluster) in store.Clusters.OrderBy(static c => c.Key, StringComparer.Ordinal))
        {
            WriteResource(w, cluster.Version, "cluster", SecretRedaction.Redact(cluster.Resource), cluster.LastUpdated);
        }

        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject();
        w.WriteString("@type", "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump");
        w.WriteStartArray("dynamic_endpoint_configs");
        foreach (var (_, assignment) in store.Assignments.OrderBy(static a => a.Key, StringComparer.Ordinal))
        {
            WriteResource(w, assignment.Version, "endpoint_config", assignment.Resource, assignment.LastUpdated);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// A resource in proto3 JSON. The upstream filters a cluster skips (Istio's metadata exchange) carry a type the dump
    /// has no descriptor for: their <c>typed_config</c> is left out rather than failing the whole dump.
    /// </summary>
    private static string Format(IMessage resource)
    {
        try
        {
            return Formatter.Format(Any.Pack(resource));
        }
        catch (InvalidOperationException) when (resource is XdsCluster cluster)
        {
            var copy = cluster.Clone();
            foreach (var filter in copy.Filters)
            {
                filter.TypedConfig = null;
            }

            return Formatter.Format(Any.Pack(copy));
        }
    }

    /// <summary>One dynamic resource as Envoy's dump lists it: its version, the resource as an Any, when it arrived.</summary>
    private static void WriteResource(Utf8JsonWriter w, string version, string property, IMessage resource, DateTimeOffset updated)
    {
        w.WriteStartObject();
        w.WriteString("version_info", version);
        w.WritePropertyName(property);
        w.WriteRawValue(Format(resource));
        w.WriteString("last_updated", Timestamp(updated));
        w.WriteEndObject();
    }

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
