using Envoy.Config.Rbac.V3;
using Envoy.Config.Route.V3;
using Envoy.Extensions.Filters.Network.HttpConnectionManager.V3;
using Envoy.Type.Matcher.V3;
using Google.Protobuf.WellKnownTypes;
using HttpRbac = Envoy.Extensions.Filters.Http.Rbac.V3.RBAC;
using NetworkRbac = Envoy.Extensions.Filters.Network.Rbac.V3.RBAC;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>RBAC, fault and local rate limit filters in the shapes istiod's authorization builder and EnvoyFilters send.</summary>
public static class XdsRbacResources
{
    public static RBAC Rules(RBAC.Types.Action action, params (string Name, Policy Policy)[] policies)
    {
        var rules = new RBAC { Action = action };
        foreach (var (name, policy) in policies)
        {
            rules.Policies.Add(name, policy);
        }

        return rules;
    }

    public static Policy Grant(Permission permission, Principal principal) => new() { Permissions = { permission }, Principals = { principal } };

    public static Permission AnyPermission => new() { Any = true };

    public static Principal AnyPrincipal => new() { Any = true };

    /// <summary>Istio's principal for a namespace: <c>principal_name: { safe_regex: ".*/ns/NS/.*" }</c>, inside or_ids.</summary>
    public static Principal Namespace(string ns) => new()
    {
        OrIds = new Principal.Types.Set { Ids = { new Principal { Authenticated = new Principal.Types.Authenticated { PrincipalName = new StringMatcher { SafeRegex = new RegexMatcher { Regex = $".*/ns/{ns}/.*" } } } } } },
    };

    /// <summary>Istio's principal for a service account: an exact SPIFFE ID.</summary>
    public static Principal Exact(string spiffeId) => new()
    {
        Authenticated = new Principal.Types.Authenticated { PrincipalName = new StringMatcher { Exact = spiffeId } },
    };

    /// <summary>Istio's operation { paths: [prefix*], methods: [m] } as and_rules of or_rules.</summary>
    public static Permission PathsAndMethods(string pathPrefix, string method) => new()
    {
        AndRules = new Permission.Types.Set
        {
            Rules =
            {
                new Permission { OrRules = new Permission.Types.Set { Rules = { new Permission { UrlPath = new PathMatcher { Path = new StringMatcher { Prefix = pathPrefix } } } } } },
                new Permission { OrRules = new Permission.Types.Set { Rules = { new Permission { Header = new HeaderMatcher { Name = ":method", StringMatch = new StringMatcher { Exact = method } } } } } },
            },
        },
    };

    public static HttpFilter HttpRbacFilter(RBAC rules, string name = "envoy.filters.http.rbac") =>
        new() { Name = name, TypedConfig = Any.Pack(new HttpRbac { Rules = rules }) };

    public static Envoy.Config.Listener.V3.Filter NetworkRbacFilter(RBAC rules) =>
        new() { Name = "envoy.filters.network.rbac", TypedConfig = Any.Pack(new NetworkRbac { Rules = rules, StatPrefix = "tcp." }) };

    /// <summary>The fault filter with an abort of <paramref name="status"/> at <paramref name="percent"/> %.</summary>
    public static HttpFilter FaultAbort(uint status, uint percent) => new()
    {
        Name = "envoy.filters.http.fault",
        TypedConfig = Any.Pack(new Envoy.Extensions.Filters.Http.Fault.V3.HTTPFault
        {
            Abort = new Envoy.Extensions.Filters.Http.Fault.V3.FaultAbort { HttpStatus = status, Percentage = new Envoy.Type.V3.FractionalPercent { Numerator = percent } },
        }),
    };

    /// <summary>Istio's local rate limit EnvoyFilter: a token bucket, enabled and enforced on 100 % of requests.</summary>
    public static HttpFilter LocalRateLimit(uint maxTokens, uint tokensPerFill, TimeSpan fillInterval, uint enabled = 100, uint enforced = 100) => new()
    {
        Name = "envoy.filters.http.local_ratelimit",
        TypedConfig = Any.Pack(new Envoy.Extensions.Filters.Http.LocalRatelimit.V3.LocalRateLimit
        {
            StatPrefix = "http_local_rate_limiter",
            TokenBucket = new Envoy.Type.V3.TokenBucket { MaxTokens = maxTokens, TokensPerFill = tokensPerFill, FillInterval = Duration.FromTimeSpan(fillInterval) },
            FilterEnabled = new Envoy.Config.Core.V3.RuntimeFractionalPercent { DefaultValue = new Envoy.Type.V3.FractionalPercent { Numerator = enabled }, RuntimeKey = "local_rate_limit_enabled" },
            FilterEnforced = new Envoy.Config.Core.V3.RuntimeFractionalPercent { DefaultValue = new Envoy.Type.V3.FractionalPercent { Numerator = enforced }, RuntimeKey = "local_rate_limit_enforced" },
        }),
    };
}
