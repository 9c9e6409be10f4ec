using Envoy.Extensions.Filters.Http.LocalRatelimit.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// The <c>envoy.filters.http.local_ratelimit</c> filter as the listener's rate limit (<see cref="ListenerConfig.RateLimit"/>):
/// its token bucket, enforced on every request. Envoy enables and enforces the filter on a share of requests
/// (<c>filter_enabled</c>, <c>filter_enforced</c>, both 0 % when unset): at 0 % the filter changes no answer and is
/// accepted as nothing; at 100 % it is the proxy's limit; any share between is a rejection, as are descriptors, a
/// status other than 429, per-connection buckets and the rate-limit response fields.
/// </summary>
internal static class LocalRateLimitTranslator
{
    /// <returns>The limit, or null when the filter limits nothing.</returns>
    public static RateLimitConfig? Translate(LocalRateLimit limit, string where)
    {
        var enabled = Share(limit.FilterEnabled, where, "filter_enabled");
        var enforced = Share(limit.FilterEnforced, where, "filter_enforced");
        if (!enabled || !enforced || limit.TokenBucket is null)
        {
            return null; // off, or only counting (shadow mode): no request is answered differently
        }

        if (limit.Descriptors.Count > 0)
        {
            throw new XdsRejectedException($"{where}.descriptors: rate limits per descriptor are not supported; send one token_bucket for the listener");
        }

        if (limit.Status is { } status && (int)status.Code is not (0 or 429))
        {
            throw new XdsRejectedException($"{where}.status: the proxy answers a limited request 429; {(int)status.Code} is not supported");
        }

        if (limit.LocalRateLimitPerDownstreamConnection)
        {
            throw new XdsRejectedException($"{where}.local_rate_limit_per_downstream_connection: a bucket per connection is not supported; the proxy's bucket is the listener's");
        }

        if (limit.ResponseHeadersToAdd.Count > 0 || limit.EnableXRatelimitHeaders != Envoy.Extensions.Common.Ratelimit.V3.XRateLimitHeadersRFCVersion.Off)
        {
            throw new XdsRejectedException($"{where}.{(limit.ResponseHeadersToAdd.Count > 0 ? "response_headers_to_add" : "enable_x_ratelimit_headers")}: fields on limited responses are not supported; remove it");
        }

        if (limit.RateLimitedAsResourceExhausted)
        {
            throw new XdsRejectedException($"{where}.rate_limited_as_resource_exhausted: a limited gRPC call gets UNAVAILABLE from the proxy; remove it");
        }

        if (limit.LocalClusterRateLimit is not null)
        {
            throw new XdsRejectedException($"{where}.local_cluster_rate_limit: a limit shared across the local cluster is not supported");
        }

        var bucket = limit.TokenBucket;
        var interval = XdsText.Of(bucket.FillInterval ?? new Google.Protobuf.WellKnownTypes.Duration(), where, "token_bucket.fill_interval");
        var perFill = bucket.TokensPerFill ?? 1;
        if (bucket.MaxTokens == 0 || perFill == 0 || interval <= TimeSpan.Zero)
        {
            throw new XdsRejectedException($"{where}.token_bucket: max_tokens, tokens_per_fill and fill_interval must be above 0");
        }

        // The proxy's bucket refills at a whole number of tokens a second (smoothly, not in steps).
        var perSecond = perFill / interval.TotalSeconds;
        if (perSecond < 1 || Math.Abs(perSecond - Math.Round(perSecond)) > 1e-9 || perSecond > int.MaxValue)
        {
            throw new XdsRejectedException($"{where}.token_bucket: {perFill} tokens every {interval.TotalSeconds}s is {perSecond:0.###} a second; the proxy's bucket refills a whole number of tokens a second (at least 1), so send tokens_per_fill and fill_interval that make one");
        }

        return new RateLimitConfig { RequestsPerSecond = (int)Math.Round(perSecond), Burst = (int)Math.Min(bucket.MaxTokens, int.MaxValue) };
    }

    /// <summary>True at 100 %, false at 0 %; a share between is a rejection (the proxy does not sample rate limits).</summary>
    private static bool Share(Envoy.Config.Core.V3.RuntimeFractionalPercent? share, string where, string field)
    {
        var percent = share?.DefaultValue is { } value ? FaultTranslator.Percent(value) : 0;
        return percent switch
        {
            >= 100 => true,
            <= 0 => false,
            _ => throw new XdsRejectedException($"{where}.{field}: {percent}% of requests; the proxy enables and enforces a rate limit on all requests or none, so send 100% or 0%"),
        };
    }
}
