using System.Text.RegularExpressions;
using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>Route, match, retry, fault and mirror binding.</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] RouteKeys =
        ["name", "match", "cluster", "split", "redirect", "direct_response", "timeout", "retries", "fault", "mirror", "rate_limit",
         "request_headers", "response_headers", "prefix_rewrite", "regex_rewrite", "host_rewrite", "auto_host_rewrite"];
    private static readonly string[] MatchKeys =
        ["host", "path_prefix", "path_exact", "path_regex", "case_sensitive", "headers", "query", "grpc", "method", "methods"];
    private static readonly string[] HeaderMatchKeys = ["name", "exact", "prefix", "regex", "present", "absent", "invert"];
    private static readonly string[] SplitKeys = ["cluster", "weight"];
    private static readonly string[] RetryKeys =
        ["attempts", "retry_on", "status_codes", "per_try_timeout", "backoff_base", "backoff_max", "budget"];
    private static readonly string[] BudgetKeys = ["ratio", "min_per_second"];
    private static readonly string[] FaultKeys = ["delay", "abort", "headers", "header_control"];
    private static readonly string[] DelayKeys = ["duration", "percent"];
    private static readonly string[] AbortKeys = ["status", "percent"];
    private static readonly string[] MirrorKeys = ["cluster", "percent"];

    /// <summary>The retry_on conditions: HTTP ones, then gRPC status names (from grpc-status).</summary>
    internal static readonly string[] RetryOnNames =
    [
        "connect-failure", "reset", "5xx", "gateway-error", "retriable-status-codes",
        "cancelled", "deadline-exceeded", "resource-exhausted", "unavailable", "refused-stream",
    ];

    private static RouteConfig? BindRoute(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, RouteKeys);
        if (map is null)
        {
            return null;
        }
        string? cluster = map.ClusterName("cluster", required: false);
        var split = map.Get("split") is { } splitNode ? BindList(ctx, splitNode, map.ChildPath("split"), BindSplit) : ConfigList<WeightedClusterConfig>.Empty;
        CheckRouteAction(map);
        if (map.Get("split") is ConfigSequence { Items.Count: 0 })
        {
            map.Error("split", "a split needs at least one cluster");
        }
        var match = map.Get("match") is { } matchNode ? BindMatch(ctx, matchNode, map.ChildPath("match")) : new RouteMatchConfig();
        var rewrites = BindRewrites(ctx, map);
        if (match.PathRegex is not null && rewrites.Prefix is not null)
        {
            // The prefix rewrite replaces what the path match took; a regex takes no fixed prefix.
            map.Error("prefix_rewrite", "prefix_rewrite replaces the matched path_prefix or path_exact; with path_regex use regex_rewrite");
        }
        return new RouteConfig
        {
            Name = map.String("name"),
            Match = match,
            Cluster = cluster,
            Split = split,
            Redirect = map.Get("redirect") is { } redirect ? BindRedirect(ctx, redirect, map.ChildPath("redirect"), match) : null,
            DirectResponse = map.Get("direct_response") is { } direct ? BindDirectResponse(ctx, direct, map.ChildPath("direct_response")) : null,
            Timeout = map.OptionalDuration("timeout"),
            Retries = map.Get("retries") is { } retries ? BindRetries(ctx, retries, map.ChildPath("retries")) : null,
            Fault = map.Get("fault") is { } fault ? BindFault(ctx, fault, map.ChildPath("fault")) : null,
            Mirror = map.Get("mirror") is { } mirror ? BindMirror(ctx, mirror, map.ChildPath("mirror")) : null,
            RateLimit = map.Get("rate_limit") is { } rateLimit ? BindRateLimit(ctx, rateLimit, map.ChildPath("rate_limit")) : null,
            RequestHeaders = map.Get("request_headers") is { } requestHeaders ? BindHeaderChanges(ctx, requestHeaders, map.ChildPath("request_headers"), forResponse: false) : null,
            ResponseHeaders = map.Get("response_headers") is { } responseHeaders ? BindHeaderChanges(ctx, responseHeaders, map.ChildPath("response_headers"), forResponse: true) : null,
            PrefixRewrite = rewrites.Prefix,
            RegexRewrite = rewrites.Regex,
            HostRewrite = rewrites.Host,
            AutoHostRewrite = rewrites.AutoHost,
        };
    }

    private static WeightedClusterConfig? BindSplit(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, SplitKeys);
        if (map is null)
        {
            return null;
        }
        string? cluster = map.ClusterName("cluster", required: true);
        int? weight = map.RequiredInt("weight", 1, 1_000_000);
        return cluster is null || weight is null ? null : new WeightedClusterConfig { Cluster = cluster, Weight = weight.Value };
    }

    private static RouteMatchConfig BindMatch(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, MatchKeys);
        if (map is null)
        {
            return new RouteMatchConfig();
        }
        string? host = map.String("host")?.ToLowerInvariant();
        if (host is not null && !HostPort.IsValidHost(host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host))
        {
            map.Error("host", $"'{host}' is not a host name (a name, an address, or *.suffix; no port)");
        }
        string? prefix = CheckPath(map, "path_prefix");
        string? exact = CheckPath(map, "path_exact");
        string? pathRegex = CheckRegex(map, "path_regex");
        if (prefix is not null && exact is not null)
        {
            map.Error("path_exact", "path_prefix and path_exact cannot both be set");
        }
        if (map.Has("path_regex") && (map.Has("path_prefix") || map.Has("path_exact")))
        {
            map.Error("path_regex", "a match takes one path condition: path_prefix, path_exact or path_regex; remove the others");
        }
        bool caseSensitive = map.Bool("case_sensitive", true);
        if (map.Has("case_sensitive") && !map.Has("path_prefix") && !map.Has("path_exact"))
        {
            map.Error("case_sensitive", map.Has("path_regex")
                ? "case_sensitive applies to path_prefix and path_exact; for path_regex start the pattern with '(?i)'"
                : "case_sensitive applies to path_prefix and path_exact; set one of them or remove case_sensitive");
        }
        ConfigList<string> methods = ConfigList<string>.Empty;
        if (map.Has("method") && map.Has("methods"))
        {
            map.Error("methods", "use either 'method' or 'methods', not both");
        }
        else if ((map.Get("method") ?? map.Get("methods")) is not null)
        {
            string key = map.Has("method") ? "method" : "methods";
            methods = ctx.ReadStringList(map.Get(key)!, map.ChildPath(key));
            foreach (string method in methods)
            {
                if (!IsToken(method))
                {
                    map.Error(key, $"'{method}' is not an HTTP method");
                }
            }
        }
        return new RouteMatchConfig
        {
            Host = host,
            PathPrefix = prefix,
            PathExact = exact,
            PathRegex = pathRegex,
            CaseSensitive = caseSensitive,
            Grpc = map.Bool("grpc", false),
            Headers = map.Get("headers") is { } headers ? BindHeaderMatches(ctx, headers, map.ChildPath("headers")) : ConfigList<HeaderMatchConfig>.Empty,
            Query = map.Get("query") is { } query ? BindQueryMatches(ctx, query, map.ChildPath("query")) : ConfigList<QueryMatchConfig>.Empty,
            Methods = methods,
        };
    }

    private static string? CheckPath(MappingView map, string key)
    {
        string? path = map.String(key);
        if (path is not null && !path.StartsWith('/'))
        {
            map.Error(key, $"'{path}' must start with '/'");
        }
        return path;
    }

    /// <summary>Short form <c>{ name: value }</c> (exact matches) or long form, a list of matcher mappings.</summary>
    private static ConfigList<HeaderMatchConfig> BindHeaderMatches(BindContext ctx, ConfigNode node, string path)
    {
        var list = new List<HeaderMatchConfig>();
        if (node is ConfigMapping mapping)
        {
            foreach (var (key, value) in mapping.Entries)
            {
                string itemPath = BindContext.Child(path, key.Value);
                if (!IsToken(key.Value))
                {
                    ctx.Error(key, itemPath, $"'{key.Value}' is not a header name");
                }
                else if (ctx.ReadString(value, itemPath) is { } exact)
                {
                    list.Add(new HeaderMatchConfig { Name = key.Value.ToLowerInvariant(), Kind = HeaderMatchKind.Exact, Value = exact });
                }
            }
            return ConfigList<HeaderMatchConfig>.From(list);
        }
        if (node is not ConfigSequence)
        {
            ctx.Error(node, path, $"expected a mapping of header names to values, or a sequence of matchers, found {node.Kind}");
            return ConfigList<HeaderMatchConfig>.Empty;
        }
        return BindList(ctx, node, path, BindHeaderMatch);
    }

    private static HeaderMatchConfig? BindHeaderMatch(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, HeaderMatchKeys);
        if (map is null)
        {
            return null;
        }
        string? name = map.String("name", required: true);
        if (name is not null && !IsToken(name))
        {
            map.Error("name", $"'{name}' is not a header name");
            name = null;
        }
        int kinds = (map.Has("exact") ? 1 : 0) + (map.Has("prefix") ? 1 : 0) + (map.Has("regex") ? 1 : 0) + (map.Has("present") ? 1 : 0) + (map.Has("absent") ? 1 : 0);
        if (kinds != 1)
        {
            ctx.Error(map.Node, path, "a header matcher needs exactly one of: exact, prefix, regex, present, absent");
            return null;
        }
        bool invert = map.Bool("invert", false);
        HeaderMatchKind kind;
        string? value;
        if (map.Has("exact"))
        {
            (kind, value) = (HeaderMatchKind.Exact, map.String("exact"));
        }
        else if (map.Has("prefix"))
        {
            (kind, value) = (HeaderMatchKind.Prefix, map.String("prefix"));
        }
        else if (map.Has("regex"))
        {
            (kind, value) = (HeaderMatchKind.Regex, CheckRegex(map, "regex"));
        }
        else if (map.Has("absent"))
        {
            if (!map.Bool("absent", true))
            {
                map.Error("absent", "only 'absent: true' is supported; to require the header write 'present: true'");
            }
            (kind, value) = (HeaderMatchKind.Absent, null);
        }
        else
        {
            if (!map.Bool("present", true))
            {
                map.Error("present", "only 'present: true' is supported; to match a request without the header write 'absent: true'");
            }
            (kind, value) = (HeaderMatchKind.Present, null);
        }
        if (name is null || (value is null && kind is not (HeaderMatchKind.Present or HeaderMatchKind.Absent)))
        {
            return null;
        }
        return new HeaderMatchConfig { Name = name.ToLowerInvariant(), Kind = kind, Value = value, Invert = invert };
    }

    private static string? CheckRegex(MappingView map, string key)
    {
        string? pattern = map.String(key);
        if (pattern is null)
        {
            return null;
        }
        try
        {
            // Compiled here only to validate, with the options the router uses, so a construct the linear-time
            // engine rejects is a validate error here and not a failed load later.
            _ = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
            return pattern;
        }
        catch (RegexParseException e)
        {
            // Spelled from the error code and offset: the message text is a bare resource key
            // in the native binary (UseSystemResourceKeys).
            map.Error(key, $"invalid regular expression: {e.Error} at offset {e.Offset}");
            return null;
        }
        catch (ArgumentException)
        {
            map.Error(key, "invalid regular expression; check its syntax");
            return null;
        }
        catch (NotSupportedException)
        {
            map.Error(key, $"'{pattern}' uses a construct the linear-time regex engine cannot run (a backreference, lookaround, atomic group or conditional); rewrite the pattern without it");
            return null;
        }
    }

    private static RetryConfig? BindRetries(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, RetryKeys);
        if (map is null)
        {
            return null;
        }
        var defaults = new RetryConfig();
        var retryOn = defaults.RetryOn;
        if (map.Get("retry_on") is { } retryOnNode)
        {
            var list = new List<string>();
            var items = ctx.ReadSequence(retryOnNode, map.ChildPath("retry_on"));
            for (int i = 0; items is not null && i < items.Count; i++)
            {
                if (ctx.ReadWord(items[i], BindContext.Index(map.ChildPath("retry_on"), i), RetryOnNames) is { } condition)
                {
                    list.Add(condition);
                }
            }
            retryOn = ConfigList<string>.From(list);
        }
        var statusCodes = map.IntList("status_codes", 100, 599);
        if (Contains(retryOn, "retriable-status-codes") && !map.Has("status_codes"))
        {
            map.Error("retry_on", "retriable-status-codes needs 'status_codes'");
        }
        var backoffBase = map.Duration("backoff_base", defaults.BackoffBase);
        var backoffMax = map.Duration("backoff_max", defaults.BackoffMax);
        if (backoffMax < backoffBase)
        {
            map.Error("backoff_max", $"backoff_max ({ConfigDuration.Format(backoffMax)}) is less than backoff_base ({ConfigDuration.Format(backoffBase)})");
        }
        return new RetryConfig
        {
            Attempts = map.Int("attempts", defaults.Attempts, 0, 100),
            RetryOn = retryOn,
            StatusCodes = statusCodes,
            PerTryTimeout = map.OptionalDuration("per_try_timeout"),
            BackoffBase = backoffBase,
            BackoffMax = backoffMax,
            Budget = map.Get("budget") is { } budget ? BindBudget(ctx, budget, map.ChildPath("budget")) : defaults.Budget,
        };
    }

    private static bool Contains(IReadOnlyList<string> list, string value)
    {
        foreach (string item in list)
        {
            if (item == value)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary><c>budget: none</c> turns the budget off; a mapping sets it (absent keys take Linkerd's defaults).</summary>
    private static RetryBudgetConfig? BindBudget(BindContext ctx, ConfigNode node, string path)
    {
        if (node is ConfigScalar scalar)
        {
            if (scalar.Value != "none")
            {
                ctx.Error(node, path, $"expected 'none' or a mapping {{ ratio, min_per_second }}, found '{scalar.Value}'");
            }
            return null;
        }
        var map = MappingView.Open(ctx, node, path, BudgetKeys);
        var defaults = new RetryBudgetConfig();
        return map is null ? null : new RetryBudgetConfig
        {
            Ratio = map.Double("ratio", defaults.Ratio, 0, 1),
            MinPerSecond = map.Int("min_per_second", defaults.MinPerSecond),
        };
    }

    private static FaultConfig? BindFault(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, FaultKeys);
        if (map is null)
        {
            return null;
        }
        if (!map.Has("delay") && !map.Has("abort"))
        {
            ctx.Error(node, path, "a fault needs 'delay' or 'abort'");
        }
        FaultDelayConfig? delay = null;
        if (map.Get("delay") is { } delayNode && MappingView.Open(ctx, delayNode, map.ChildPath("delay"), DelayKeys) is { } delayMap
            && delayMap.Require("duration") is { } durationNode
            && ctx.ReadDuration(durationNode, delayMap.ChildPath("duration"), positive: true) is { } duration)
        {
            delay = new FaultDelayConfig { Duration = duration, Percent = delayMap.Percent("percent") };
        }
        FaultAbortConfig? abort = null;
        if (map.Get("abort") is { } abortNode && MappingView.Open(ctx, abortNode, map.ChildPath("abort"), AbortKeys) is { } abortMap
            && abortMap.RequiredInt("status", 200, 599) is { } status)
        {
            abort = new FaultAbortConfig { Status = status, Percent = abortMap.Percent("percent") };
        }
        return new FaultConfig
        {
            Delay = delay,
            Abort = abort,
            Headers = map.Get("headers") is { } headers ? BindHeaderMatches(ctx, headers, map.ChildPath("headers")) : ConfigList<HeaderMatchConfig>.Empty,
            HeaderControl = map.Bool("header_control", false),
        };
    }

    private static MirrorConfig? BindMirror(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, MirrorKeys);
        if (map is null || map.ClusterName("cluster", required: true) is not { } cluster)
        {
            return null;
        }
        return new MirrorConfig { Cluster = cluster, Percent = map.Percent("percent") };
    }
}
