using System.Text.Json;
using Envoy.Config.Listener.V3;
using Envoy.Config.Route.V3;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Proxy.Xds.Admin;

/// <summary>
/// The listener and route part of /config_dump in Envoy's layout: a <c>ListenersConfigDump</c> (the file's listeners
/// as <c>static_listeners</c> by name and address; the server's as <c>dynamic_listeners</c>, each with its
/// <c>active_state</c>, or <c>warming_state</c> while it waits for its routes, and <c>error_state</c> when its last
/// update was refused) and a <c>RoutesConfigDump</c>
/// (<c>dynamic_route_configs</c>, with <c>client_status</c> <c>DOES_NOT_EXIST</c> for a name whose initial fetch
/// timed out and <c>REQUESTED</c> for one still awaited).
/// </summary>
public static class XdsListenersDumpWriter
{
    private static readonly TypeRegistry Types = TypeRegistry.FromMessages(
        Listener.Descriptor,
        RouteConfiguration.Descriptor,
        Envoy.Extensions.Filters.Network.HttpConnectionManager.V3.HttpConnectionManager.Descriptor,
        Envoy.Extensions.Filters.Network.TcpProxy.V3.TcpProxy.Descriptor,
        Envoy.Extensions.Filters.Http.Router.V3.Router.Descriptor,
        Envoy.Extensions.TransportSockets.Tls.V3.DownstreamTlsContext.Descriptor,
        Envoy.Extensions.TransportSockets.RawBuffer.V3.RawBuffer.Descriptor);

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(false).WithPreserveProtoFieldNames(true).WithTypeRegistry(Types));

    /// <summary>Writes the two <c>configs</c> items.</summary>
    public static void WriteConfigs(Utf8JsonWriter w, XdsListenerStore store, (string Listeners, string Routes) versions, IReadOnlyList<Configuration.ListenerConfig> fileListeners)
    {
        w.WriteStartObject();
        w.WriteString("@type", "type.googleapis.com/envoy.admin.v3.ListenersConfigDump");
        w.WriteString("version_info", versions.Listeners);
        w.WriteStartArray("static_listeners");
        foreach (var listener in fileListeners)
        {
            // The file's listeners in the proxy's own terms: name and address, as an Envoy listener.
            w.WriteStartObject();
            w.WriteStartObject("listener");
            w.WriteString("@type", XdsTypeUrls.Listener);
            w.WriteString("name", listener.Name);
            w.WriteStartObject("address");
            w.WriteStartObject("socket_address");
            w.WriteString("address", listener.Address.Host);
            w.WriteNumber("port_value", listener.Address.Port);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("dynamic_listeners");
        var names = new SortedSet<string>(store.Listeners.Keys, StringComparer.Ordinal);
        names.UnionWith(store.Rejected.Keys);
        foreach (var name in names)
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            if (store.Listeners.TryGetValue(name, out var listener))
            {
                w.WriteStartObject(store.IsWarming(listener) ? "warming_state" : "active_state");
                w.WriteString("version_info", listener.Version);
                w.WritePropertyName("listener");
                w.WriteRawValue(Format(listener.Resource));
                w.WriteString("last_updated", Timestamp(listener.LastUpdated));
                w.WriteEndObject();
            }

            if (store.Rejected.TryGetValue(name, out var failure))
            {
                // Envoy's UpdateFailureState: what was refused, when, and why (the NACK's error_detail).
                w.WriteStartObject("error_state");
                w.WritePropertyName("failed_configuration");
                w.WriteRawValue(Format(failure.Resource));
                w.WriteString("last_update_attempt", Timestamp(failure.LastUpdateAttempt));
                w.WriteString("details", failure.Details);
                w.WriteString("version_info", failure.Version);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();

        w.WriteStartObject();
        w.WriteString("@type", "type.googleapis.com/envoy.admin.v3.RoutesConfigDump");
        w.WriteStartArray("dynamic_route_configs");
        foreach (var name in store.RdsNames())
        {
            w.WriteStartObject();
            if (store.Routes.TryGetValue(name, out var routes))
            {
                w.WriteString("version_info", routes.Version);
                w.WritePropertyName("route_config");
                w.WriteRawValue(Format(routes.Resource));
                w.WriteString("last_updated", Timestamp(routes.LastUpdated));
                w.WriteString("client_status", "ACKED");
            }
            else
            {
                // Asked for and not (yet) sent: the name, and whether its initial fetch timed out.
                w.WritePropertyName("route_config");
                w.WriteRawValue(Format(new RouteConfiguration { Name = name }));
                w.WriteString("client_status", store.Absent.Contains(name) ? "DOES_NOT_EXIST" : "REQUESTED");
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Leaves out the retry host predicates' <c>typed_config</c> of types the dump has no descriptor for (Istio's previous_hosts).</summary>
    private static void WithoutUnknownTypes(RouteConfiguration routes)
    {
        foreach (var policy in routes.VirtualHosts.SelectMany(static h => h.Routes.Select(r => r.Route_?.RetryPolicy).Append(h.RetryPolicy)))
        {
            if (policy is null)
            {
                continue;
            }

            foreach (var predicate in policy.RetryHostPredicate)
            {
                if (predicate.TypedConfig is { } any && Types.Find(Any.GetTypeName(any.TypeUrl)) is null)
                {
                    predicate.TypedConfig = null;
                }
            }
        }
    }

    /// <summary>
    /// A resource as an Any in proto3 JSON. Filters the proxy skips (telemetry, empty passive ones) may carry types it
    /// has no descriptor for; their <c>typed_config</c> is then left out rather than failing the whole dump.
    /// </summary>
    private static string Format(IMessage resource)
    {
        try
        {
            return Formatter.Format(Any.Pack(resource));
        }
        catch (InvalidOperationException) when (resource is RouteConfiguration routes)
        {
            var copy = routes.Clone();
            WithoutUnknownTypes(copy);
            return Formatter.Format(Any.Pack(copy));
        }
        catch (InvalidOperationException) when (resource is Listener listener)
        {
            var copy = listener.Clone();
            foreach (var filter in copy.ListenerFilters)
            {
                if (filter.TypedConfig is { } any && Types.Find(Any.GetTypeName(any.TypeUrl)) is null)
                {
                    filter.TypedConfig = null; // original_dst, tls_inspector, http_inspector: known by name
                }
            }

            foreach (var chain in copy.FilterChains.Append(copy.DefaultFilterChain).Where(static c => c is not null))
            {
                foreach (var filter in chain!.Filters)
                {
                    if (filter.TypedConfig is { } any && Types.Find(Any.GetTypeName(any.TypeUrl)) is null)
                    {
                        filter.TypedConfig = null;
                    }
                    else if (filter.TypedConfig?.TypeUrl == Translation.ListenerTranslator.HttpConnectionManagerType)
                    {
                        var manager = Envoy.Extensions.Filters.Network.HttpConnectionManager.V3.HttpConnectionManager.Parser.ParseFrom(filter.TypedConfig.Value);
                        foreach (var http in manager.HttpFilters)
                        {
                            if (http.TypedConfig is { } config && Types.Find(Any.GetTypeName(config.TypeUrl)) is null)
                            {
                                http.TypedConfig = null;
                            }
                        }

                        if (manager.RouteConfig is { } inline)
                        {
                            WithoutUnknownTypes(inline);
                        }

                        filter.TypedConfig = Any.Pack(manager);
                    }
                }
            }

            return Formatter.Format(Any.Pack(copy));
        }
    }

    private static string Timestamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
