using Envoy.Config.Route.V3;
using Proxy.Configuration;
using Proxy.Runtime;

namespace Proxy.Xds.Translation;

/// <summary>
/// An RDS <c>RouteConfiguration</c> (or an <c>http_connection_manager</c>'s inline <c>route_config</c>) as the
/// proxy's virtual hosts. Every route is translated by <see cref="RouteTranslator"/>; the result is then checked by
/// the same route compiler a snapshot uses (domains, patterns), so what is accepted compiles.
/// </summary>
public static class RouteConfigurationTranslator
{
    public static TranslatedRouteConfiguration Translate(RouteConfiguration config)
    {
        var where = $"route_configuration '{config.Name}'";
        if (config.Vhds is not null)
        {
            throw new XdsRejectedException($"{where}: vhds: virtual hosts on demand are not supported; send the virtual hosts in the RouteConfiguration");
        }

        if (config.MostSpecificHeaderMutationsWins)
        {
            throw new XdsRejectedException($"{where}: most_specific_header_mutations_wins: the proxy applies route, then virtual host, then route configuration changes; leave it false");
        }

        if (config.ClusterSpecifierPlugins.Count > 0)
        {
            throw new XdsRejectedException($"{where}: cluster_specifier_plugins: not supported");
        }

        if (config.TypedPerFilterConfig.Count > 0)
        {
            throw new XdsRejectedException($"{where}: typed_per_filter_config[{config.TypedPerFilterConfig.Keys.First()}]: per-route filter configuration is not supported");
        }

        var clusters = new List<string>();
        var hosts = new List<VirtualHostConfig>(config.VirtualHosts.Count);
        var positions = new List<(int Host, int Route)>();
        for (var v = 0; v < config.VirtualHosts.Count; v++)
        {
            var host = config.VirtualHosts[v];
            var hostWhere = $"{where}: virtual_hosts[{v}] '{host.Name}'";
            RejectUnsupported(host, hostWhere);
            var routes = new List<RouteConfig>(host.Routes.Count);
            for (var r = 0; r < host.Routes.Count; r++)
            {
                routes.Add(RouteTranslator.Translate(host.Routes[r], $"{hostWhere}: routes[{r}]", clusters));
                positions.Add((v, r));
            }

            hosts.Add(new VirtualHostConfig
            {
                Name = host.Name.Length > 0 ? host.Name : $"virtual-host-{v}",
                Domains = new ConfigList<string>([.. host.Domains]),
                Routes = ConfigList<RouteConfig>.From(routes),
                Retries = host.RetryPolicy is { } retry ? RouteActionTranslator.Retry(retry, hostWhere, "retry_policy") : null,
                RequestHeaders = HeaderChangesTranslator.Translate(host.RequestHeadersToAdd, host.RequestHeadersToRemove, forResponse: false, hostWhere, "request_headers_to_add", "request_headers_to_remove"),
                ResponseHeaders = HeaderChangesTranslator.Translate(host.ResponseHeadersToAdd, host.ResponseHeadersToRemove, forResponse: true, hostWhere, "response_headers_to_add", "response_headers_to_remove"),
            });
        }

        hosts = QualifyRepeatedNames(hosts);
        var errors = SnapshotCompiler.CheckRoutes(hosts);
        if (errors.Count > 0)
        {
            // The compiler's first complaint, placed in the resource: the domain or the pattern the server must fix.
            var error = errors[0];
            var place = error.RouteIndex >= 0 && error.RouteIndex < positions.Count
                ? $"virtual_hosts[{positions[error.RouteIndex].Host}].routes[{positions[error.RouteIndex].Route}].{error.Field}"
                : error.Field;
            throw new XdsRejectedException($"{where}: {place}: {error.Message}");
        }

        return new TranslatedRouteConfiguration(
            hosts,
            HeaderChangesTranslator.Translate(config.RequestHeadersToAdd, config.RequestHeadersToRemove, forResponse: false, where, "request_headers_to_add", "request_headers_to_remove"),
            HeaderChangesTranslator.Translate(config.ResponseHeadersToAdd, config.ResponseHeadersToRemove, forResponse: true, where, "response_headers_to_add", "response_headers_to_remove"),
            clusters.Distinct(StringComparer.Ordinal).ToArray());
    }

    /// <summary>
    /// Envoy route names are labels, and a server may repeat them: istiod names the one route of every outbound virtual
    /// host <c>default</c>. The proxy's routes need names unique within a listener (they key its metrics and its admin
    /// API), so a name used more than once becomes <c>VIRTUAL_HOST/NAME</c> wherever it appears (and, repeated within one
    /// virtual host too, <c>VIRTUAL_HOST/NAME/INDEX</c>); unique names are kept as sent.
    /// </summary>
    private static List<VirtualHostConfig> QualifyRepeatedNames(List<VirtualHostConfig> hosts)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var route in hosts.SelectMany(static h => h.Routes))
        {
            if (route.Name is { } name)
            {
                counts[name] = counts.GetValueOrDefault(name) + 1;
            }
        }

        if (counts.Values.All(static n => n == 1))
        {
            return hosts;
        }

        var qualified = new List<VirtualHostConfig>(hosts.Count);
        foreach (var host in hosts)
        {
            var inHost = host.Routes.Where(static r => r.Name is not null).GroupBy(static r => r.Name!).Where(static g => g.Count() > 1).Select(static g => g.Key).ToHashSet(StringComparer.Ordinal);
            var routes = host.Routes.Select((route, r) => route.Name is { } name && counts[name] > 1
                ? route with { Name = inHost.Contains(name) ? $"{host.Name}/{name}/{r}" : $"{host.Name}/{name}" }
                : route);
            qualified.Add(host with { Routes = ConfigList<RouteConfig>.From([.. routes]) });
        }

        return qualified;
    }

    private static void RejectUnsupported(VirtualHost host, string where)
    {
        if (host.RequireTls != VirtualHost.Types.TlsRequirementType.None)
        {
            throw new XdsRejectedException($"{where}: require_tls: not supported; add a route that redirects with https_redirect");
        }

        if (host.RateLimits.Count > 0)
        {
            throw new XdsRejectedException($"{where}: rate_limits: global rate limiting is not supported");
        }

        if (host.TypedPerFilterConfig.Count > 0)
        {
            throw new XdsRejectedException($"{where}: typed_per_filter_config[{host.TypedPerFilterConfig.Keys.First()}]: per-host filter configuration is not supported");
        }

        if (host.HedgePolicy is not null)
        {
            throw new XdsRejectedException($"{where}: hedge_policy: request hedging is not supported");
        }

        if (host.Matcher is not null)
        {
            throw new XdsRejectedException($"{where}: matcher: the generic matcher tree is not supported; use routes");
        }
    }
}
