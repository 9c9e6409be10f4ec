using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Proxy.Configuration;
using Proxy.Filters;
using Proxy.Filters.Rbac;

namespace Proxy.Xds.Translation;

/// <summary>
/// An http_connection_manager's <c>http_filters</c> as the listener's filter chain: <c>envoy.filters.http.rbac</c>,
/// <c>fault</c> and <c>local_ratelimit</c> become the proxy's rbac, fault and rate_limit filters at their positions
/// (the proxy's other filters, which act only on what routes configure, follow them), observing filters are skipped,
/// and the chain must end with the router. Any other filter, or one configured beyond what the proxy runs, is a
/// rejection naming it; an authorization filter is never dropped.
/// </summary>
internal static class HttpFiltersTranslator
{
    public const string RouterType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

    public const string RbacType = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";

    public const string FaultType = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";

    public const string LocalRateLimitType = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

    private const string CorsType = "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors";

    /// <summary>HTTP filters that only observe (stats, metadata exchange, ALPN overrides): skipped, as docs/xds.md lists.</summary>
    private static readonly string[] TelemetryFilters = ["istio.metadata_exchange", "istio.stats", "istio.alpn", "envoy.filters.http.grpc_stats"];

    /// <summary>The listener with its filter chain, RBAC policy sets, fault and rate limit.</summary>
    public static ListenerConfig Translate(ListenerConfig listener, HttpConnectionManager manager, string where)
    {
        var filters = manager.HttpFilters;
        if (filters.Count == 0 || filters[^1].TypedConfig?.TypeUrl != RouterType && filters[^1].Name != "envoy.filters.http.router")
        {
            throw new XdsRejectedException($"{where}: http_filters: the chain must end with the router (envoy.filters.http.router)");
        }

        var names = new List<string>();
        var rbac = new List<RbacEngine>();
        FaultConfig? fault = null;
        RateLimitConfig? rateLimit = null;
        for (var i = 0; i < filters.Count - 1; i++)
        {
            var filter = filters[i];
            var at = $"{where}: http_filters[{i}] '{filter.Name}'";
            var typeUrl = filter.TypedConfig?.TypeUrl ?? "";
            if (filter.Disabled || Array.IndexOf(TelemetryFilters, filter.Name) >= 0)
            {
                continue; // disabled (routes may enable it: typed_per_filter_config is refused on routes), or observing only
            }

            if (typeUrl == RouterType || filter.Name == "envoy.filters.http.router")
            {
                throw new XdsRejectedException($"{at}: the router must be the last filter, and only once");
            }

            if (filter.ConfigTypeCase == HttpFilter.ConfigTypeOneofCase.ConfigDiscovery)
            {
                throw new XdsRejectedException($"{at}: filter configuration discovery (ECDS) is not supported");
            }

            switch (typeUrl)
            {
                case RbacType:
                    var rules = XdsDecoder.Decode(Envoy.Extensions.Filters.Http.Rbac.V3.RBAC.Parser, filter.TypedConfig!.Value, $"{at}: its typed_config");
                    if (rules.Matcher is not null)
                    {
                        throw new XdsRejectedException($"{at}.matcher: RBAC as a matcher tree is not supported; send rules");
                    }

                    // shadow_rules only count what would be denied (stats): ignored. No rules: the filter allows everything.
                    if (rules.Rules is not null && RbacTranslator.Translate(rules.Rules, filter.Name, RbacTranslator.Scope.Http, at) is { } engine)
                    {
                        if (names.Count > 0 && names[^1] != RbacFilter.FilterName && names.Contains(RbacFilter.FilterName))
                        {
                            throw new XdsRejectedException($"{at}: the proxy runs a listener's RBAC filters together, so another filter between two of them is not supported; put the RBAC filters next to each other");
                        }

                        rbac.Add(engine);
                        if (!names.Contains(RbacFilter.FilterName))
                        {
                            names.Add(RbacFilter.FilterName);
                        }
                    }

                    break;
                case FaultType:
                    var faultConfig = FaultTranslator.Translate(XdsDecoder.Decode(Envoy.Extensions.Filters.Http.Fault.V3.HTTPFault.Parser, filter.TypedConfig!.Value, $"{at}: its typed_config"), at);
                    if (faultConfig is not null)
                    {
                        fault = fault is null ? faultConfig : throw new XdsRejectedException($"{at}: a second fault filter with a fault is not supported; the proxy runs one per listener");
                        names.Add(FaultFilter.FilterName);
                    }

                    break;
                case LocalRateLimitType:
                    var limit = LocalRateLimitTranslator.Translate(XdsDecoder.Decode(Envoy.Extensions.Filters.Http.LocalRatelimit.V3.LocalRateLimit.Parser, filter.TypedConfig!.Value, $"{at}: its typed_config"), at);
                    if (limit is not null)
                    {
                        rateLimit = rateLimit is null ? limit : throw new XdsRejectedException($"{at}: a second local_ratelimit filter with a bucket is not supported; the proxy runs one per listener");
                        names.Add(RateLimitFilter.FilterName);
                    }

                    break;
                case CorsType when filter.TypedConfig!.Value.IsEmpty:
                    break; // CORS policies live on routes, which are refused there
                default:
                    if (filter.IsOptional)
                    {
                        break; // Envoy skips an optional filter it does not know
                    }

                    throw new XdsRejectedException($"{at}: the HTTP filter {(typeUrl.Length > 0 ? typeUrl : filter.Name)} is not supported as configured; remove it, or mark it is_optional if the listener may run without it");
            }
        }

        if (rbac.Count == 0 && fault is null && rateLimit is null)
        {
            return listener; // the default chain: each filter acts only on what the routes configure
        }

        // The proxy's own filters act only on what routes configure; they follow the configured ones, in their order.
        foreach (var name in HttpFilterRegistry.DefaultOrder)
        {
            AddOnce(names, name);
        }

        return listener with { HttpFilters = names, HttpRbac = rbac, Fault = fault, RateLimit = rateLimit };
    }

    private static void AddOnce(List<string> names, string name)
    {
        if (!names.Contains(name))
        {
            names.Add(name);
        }
    }
}
