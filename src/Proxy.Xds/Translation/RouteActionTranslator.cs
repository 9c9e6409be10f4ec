using Envoy.Config.Route.V3;
using Envoy.Type.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A Route's forwarding action (<c>route</c>: RouteAction) onto a <see cref="RouteConfig"/>: the cluster or weighted
/// clusters, timeout (Envoy's default of 15 s when unset, none when 0), retry policy, mirror, and the path and host
/// rewrites. Fields that choose where traffic goes and that the proxy cannot honour are rejections.
/// </summary>
internal static class RouteActionTranslator
{
    /// <summary>The retry_on conditions the proxy knows, in Envoy's spelling (x-envoy-retry-on, x-envoy-retry-grpc-on).</summary>
    private static readonly string[] RetryOn =
        ["connect-failure", "reset", "5xx", "gateway-error", "retriable-status-codes", "refused-stream", "cancelled", "deadline-exceeded", "resource-exhausted", "unavailable"];

    public static RouteConfig Translate(RouteConfig route, RouteAction action, string where, out IReadOnlyList<string> clusters)
    {
        string? cluster = null;
        var split = new List<WeightedClusterConfig>();
        switch (action.ClusterSpecifierCase)
        {
            case RouteAction.ClusterSpecifierOneofCase.Cluster:
                cluster = action.Cluster.Length > 0 ? action.Cluster : throw new XdsRejectedException($"{where}: route.cluster: empty cluster name");
                break;
            case RouteAction.ClusterSpecifierOneofCase.WeightedClusters:
                for (var i = 0; i < action.WeightedClusters.Clusters.Count; i++)
                {
                    var weighted = action.WeightedClusters.Clusters[i];
                    var field = $"route.weighted_clusters.clusters[{i}]";
                    if (weighted.Name.Length == 0)
                    {
                        throw new XdsRejectedException($"{where}: {field}: a weighted cluster needs a name (cluster_header is not supported)");
                    }

                    if (weighted.RequestHeadersToAdd.Count > 0 || weighted.RequestHeadersToRemove.Count > 0 || weighted.ResponseHeadersToAdd.Count > 0
                        || weighted.ResponseHeadersToRemove.Count > 0 || weighted.HostRewriteLiteral.Length > 0 || weighted.TypedPerFilterConfig.Count > 0 || weighted.MetadataMatch is not null)
                    {
                        throw new XdsRejectedException($"{where}: {field}: per-cluster header changes, host rewrites, filter configs and metadata_match are not supported; put header changes on the route");
                    }

                    // A weight of 0 takes no traffic in Envoy; the proxy's split has no such entry.
                    if ((weighted.Weight ?? 0) > 0)
                    {
                        split.Add(new WeightedClusterConfig { Cluster = weighted.Name, Weight = (int)Math.Min(weighted.Weight!.Value, 1_000_000) });
                    }
                }

                if (split.Count == 0)
                {
                    throw new XdsRejectedException($"{where}: route.weighted_clusters: no cluster has a weight above 0, so no request could be sent anywhere");
                }

                break;
            case RouteAction.ClusterSpecifierOneofCase.None:
                throw new XdsRejectedException($"{where}: route: a route action needs cluster or weighted_clusters");
            default:
                throw new XdsRejectedException($"{where}: route.{RouteMatchTranslator.Snake(action.ClusterSpecifierCase.ToString())}: choosing the cluster per request is not supported; use cluster or weighted_clusters");
        }

        RejectUnsupported(action, where);
        var names = new List<string>();
        if (cluster is not null)
        {
            names.Add(cluster);
        }

        foreach (var s in split)
        {
            names.Add(s.Cluster);
        }

        var mirror = Mirror(action, where);
        if (mirror is not null)
        {
            names.Add(mirror.Cluster);
        }

        clusters = names;
        string? hostRewrite = null;
        var autoHostRewrite = false;
        switch (action.HostRewriteSpecifierCase)
        {
            case RouteAction.HostRewriteSpecifierOneofCase.HostRewriteLiteral:
                hostRewrite = action.HostRewriteLiteral;
                break;
            case RouteAction.HostRewriteSpecifierOneofCase.AutoHostRewrite:
                autoHostRewrite = action.AutoHostRewrite ?? false;
                break;
            case RouteAction.HostRewriteSpecifierOneofCase.None:
                break;
            default:
                throw new XdsRejectedException($"{where}: route.{RouteMatchTranslator.Snake(action.HostRewriteSpecifierCase.ToString())}: not supported; use host_rewrite_literal or auto_host_rewrite");
        }

        if (action.PrefixRewrite.Length > 0 && route.Match.PathRegex is not null)
        {
            throw new XdsRejectedException($"{where}: route.prefix_rewrite: replaces the matched prefix or path; with safe_regex use regex_rewrite");
        }

        RegexRewriteConfig? regexRewrite = null;
        if (action.RegexRewrite is { } rewrite)
        {
            if (action.PrefixRewrite.Length > 0)
            {
                throw new XdsRejectedException($"{where}: route.regex_rewrite: not together with prefix_rewrite");
            }

            var pattern = XdsText.Regex(rewrite.Pattern?.Regex ?? "", where, "route.regex_rewrite.pattern");
            var groups = new System.Text.RegularExpressions.Regex(pattern, System.Text.RegularExpressions.RegexOptions.NonBacktracking).GetGroupNumbers().Length - 1;
            if (Rewrites.RequestRewrite.CheckSubstitution(rewrite.Substitution, groups) is { } problem)
            {
                throw new XdsRejectedException($"{where}: route.regex_rewrite.substitution: {problem}");
            }

            regexRewrite = new RegexRewriteConfig { Pattern = pattern, Substitution = rewrite.Substitution };
        }

        // Envoy's route timeout defaults to 15 s; 0 turns it off.
        TimeSpan? timeout = action.Timeout is { } t ? XdsText.NonNegative(t, where, "route.timeout") : TimeSpan.FromSeconds(15);
        return route with
        {
            Cluster = cluster,
            Split = ConfigList<WeightedClusterConfig>.From(split),
            Timeout = timeout == TimeSpan.Zero ? null : timeout,
            Retries = action.RetryPolicy is { } retry ? Retry(retry, where, "route.retry_policy") : null,
            Mirror = mirror,
            PrefixRewrite = action.PrefixRewrite.Length > 0 ? action.PrefixRewrite : null,
            RegexRewrite = regexRewrite,
            HostRewrite = hostRewrite,
            AutoHostRewrite = autoHostRewrite,
        };
    }

    /// <summary>A RetryPolicy (of a route or a virtual host): conditions, count, per-try timeout, status codes, backoff.</summary>
    public static RetryConfig Retry(RetryPolicy policy, string where, string field)
    {
        var conditions = new List<string>();
        foreach (var raw in policy.RetryOn.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (Array.IndexOf(RetryOn, raw) < 0)
            {
                throw new XdsRejectedException($"{where}: {field}.retry_on: '{raw}' is not supported; the proxy retries on {string.Join(", ", RetryOn)}");
            }

            if (!conditions.Contains(raw))
            {
                conditions.Add(raw);
            }
        }

        if (policy.RetriableHeaders.Count > 0 || policy.RetriableRequestHeaders.Count > 0)
        {
            throw new XdsRejectedException($"{where}: {field}: retriable_headers and retriable_request_headers are not supported");
        }

        var codes = new List<int>();
        foreach (var code in policy.RetriableStatusCodes)
        {
            codes.Add(code is >= 100 and <= 599 ? (int)code : throw new XdsRejectedException($"{where}: {field}.retriable_status_codes: {code} is not an HTTP status"));
        }

        if (conditions.Contains("retriable-status-codes") && codes.Count == 0)
        {
            throw new XdsRejectedException($"{where}: {field}.retry_on: retriable-status-codes needs retriable_status_codes");
        }

        var defaults = new RetryConfig();
        var backoffBase = policy.RetryBackOff?.BaseInterval is { } b ? XdsText.NonNegative(b, where, field + ".retry_back_off.base_interval") : defaults.BackoffBase;
        var backoffMax = policy.RetryBackOff?.MaxInterval is { } m ? XdsText.NonNegative(m, where, field + ".retry_back_off.max_interval")
            : policy.RetryBackOff is not null ? backoffBase * 10 : defaults.BackoffMax;
        if (backoffMax < backoffBase)
        {
            throw new XdsRejectedException($"{where}: {field}.retry_back_off: max_interval is less than base_interval");
        }

        var perTry = policy.PerTryTimeout is { } p ? XdsText.NonNegative(p, where, field + ".per_try_timeout") : TimeSpan.Zero;
        return new RetryConfig
        {
            Attempts = (int)Math.Min(policy.NumRetries ?? 1, 100),
            RetryOn = ConfigList<string>.From(conditions),
            StatusCodes = ConfigList<int>.From(codes),
            PerTryTimeout = perTry > TimeSpan.Zero ? perTry : null,
            BackoffBase = backoffBase,
            BackoffMax = backoffMax,
        };
    }

    private static MirrorConfig? Mirror(RouteAction action, string where)
    {
        if (action.RequestMirrorPolicies.Count == 0)
        {
            return null;
        }

        if (action.RequestMirrorPolicies.Count > 1)
        {
            throw new XdsRejectedException($"{where}: route.request_mirror_policies: the proxy mirrors to one cluster per route; send one policy");
        }

        var policy = action.RequestMirrorPolicies[0];
        if (policy.Cluster.Length == 0)
        {
            throw new XdsRejectedException($"{where}: route.request_mirror_policies[0]: a mirror needs a cluster (cluster_header is not supported)");
        }

        double percent = 100;
        if (policy.RuntimeFraction?.DefaultValue is { } fraction)
        {
            var denominator = fraction.Denominator switch
            {
                FractionalPercent.Types.DenominatorType.TenThousand => 10_000.0,
                FractionalPercent.Types.DenominatorType.Million => 1_000_000.0,
                _ => 100.0,
            };
            percent = Math.Min(100, fraction.Numerator * 100 / denominator);
        }

        return new MirrorConfig { Cluster = policy.Cluster, Percent = percent };
    }

    private static void RejectUnsupported(RouteAction action, string where)
    {
        if (action.HashPolicy.Count > 0)
        {
            throw new XdsRejectedException($"{where}: route.hash_policy: per-route hash policies are not supported; ring_hash and maglev clusters hash on the client's address");
        }

        if (action.MetadataMatch is not null)
        {
            throw new XdsRejectedException($"{where}: route.metadata_match: subset load balancing is not supported");
        }

        if (action.RateLimits.Count > 0)
        {
            throw new XdsRejectedException($"{where}: route.rate_limits: global rate limiting is not supported");
        }

        if (action.MaxStreamDuration is { } max && (Set(max.MaxStreamDuration_, "max_stream_duration") || Set(max.GrpcTimeoutHeaderMax, "grpc_timeout_header_max") || Set(max.GrpcTimeoutHeaderOffset, "grpc_timeout_header_offset")))
        {
            throw new XdsRejectedException($"{where}: route.max_stream_duration: stream duration limits are not supported; use timeout (a gRPC client's grpc-timeout is honoured when tighter)");
        }

        if (action.InternalRedirectPolicy is not null)
        {
            throw new XdsRejectedException($"{where}: route.internal_redirect_policy: internal redirects are not supported");
        }

        bool Set(Google.Protobuf.WellKnownTypes.Duration? duration, string field) => duration is not null && XdsText.Of(duration, where, "route.max_stream_duration." + field) > TimeSpan.Zero;
    }
}
