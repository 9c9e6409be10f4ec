using System.Text.Json;

namespace Proxy.Configuration;

/// <summary>Route sections of the JSON writer.</summary>
public static partial class ConfigWriter
{
    private static void WriteRoute(Utf8JsonWriter w, RouteConfig route)
    {
        w.WriteStartObject();
        OptionalString(w, "name", route.Name);
        var match = route.Match;
        w.WriteStartObject("match");
        OptionalString(w, "host", match.Host);
        OptionalString(w, "path_prefix", match.PathPrefix);
        OptionalString(w, "path_exact", match.PathExact);
        OptionalString(w, "path_regex", match.PathRegex);
        if (!match.CaseSensitive)
        {
            w.WriteBoolean("case_sensitive", false);
        }
        if (match.Grpc)
        {
            w.WriteBoolean("grpc", true);
        }
        WriteHeaderMatches(w, match.Headers);
        WriteQueryMatches(w, match.Query);
        Strings(w, "methods", match.Methods);
        w.WriteEndObject();
        OptionalString(w, "cluster", route.Cluster);
        WriteLocalAction(w, route);
        if (route.Cluster is null && !route.AnswersLocally)
        {
            w.WriteStartArray("split");
            foreach (var target in route.Split)
            {
                w.WriteStartObject();
                w.WriteString("cluster", target.Cluster);
                w.WriteNumber("weight", target.Weight);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        OptionalDuration(w, "timeout", route.Timeout);
        WriteHeaderChanges(w, "request_headers", route.RequestHeaders);
        WriteHeaderChanges(w, "response_headers", route.ResponseHeaders);
        OptionalString(w, "prefix_rewrite", route.PrefixRewrite);
        if (route.RegexRewrite is { } regexRewrite)
        {
            w.WriteStartObject("regex_rewrite");
            w.WriteString("pattern", regexRewrite.Pattern);
            w.WriteString("substitution", regexRewrite.Substitution);
            w.WriteEndObject();
        }
        OptionalString(w, "host_rewrite", route.HostRewrite);
        if (route.AutoHostRewrite)
        {
            w.WriteBoolean("auto_host_rewrite", true);
        }
        WriteRetries(w, route.Retries);
        if (route.Fault is { } fault)
        {
            w.WriteStartObject("fault");
            if (fault.Delay is { } delay)
            {
                w.WriteStartObject("delay");
                Duration(w, "duration", delay.Duration);
                w.WriteNumber("percent", delay.Percent);
                w.WriteEndObject();
            }
            if (fault.Abort is { } abort)
            {
                w.WriteStartObject("abort");
                w.WriteNumber("status", abort.Status);
                w.WriteNumber("percent", abort.Percent);
                w.WriteEndObject();
            }
            WriteHeaderMatches(w, fault.Headers);
            w.WriteBoolean("header_control", fault.HeaderControl);
            w.WriteEndObject();
        }
        if (route.Mirror is { } mirror)
        {
            w.WriteStartObject("mirror");
            w.WriteString("cluster", mirror.Cluster);
            w.WriteNumber("percent", mirror.Percent);
            w.WriteEndObject();
        }
        WriteRateLimit(w, route.RateLimit);
        w.WriteEndObject();
    }

    private static void WriteRetries(Utf8JsonWriter w, RetryConfig? policy)
    {
        if (policy is not { } retries)
        {
            return;
        }
        w.WriteStartObject("retries");
        w.WriteNumber("attempts", retries.Attempts);
        Strings(w, "retry_on", retries.RetryOn);
        Numbers(w, "status_codes", retries.StatusCodes);
        OptionalDuration(w, "per_try_timeout", retries.PerTryTimeout);
        Duration(w, "backoff_base", retries.BackoffBase);
        Duration(w, "backoff_max", retries.BackoffMax);
        if (retries.Budget is { } budget)
        {
            w.WriteStartObject("budget");
            w.WriteNumber("ratio", budget.Ratio);
            w.WriteNumber("min_per_second", budget.MinPerSecond);
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("budget", "none");
        }
        w.WriteEndObject();
    }

    // Always the long form, which can express every kind.
    private static void WriteHeaderMatches(Utf8JsonWriter w, IReadOnlyList<HeaderMatchConfig> headers)
    {
        w.WriteStartArray("headers");
        foreach (var header in headers)
        {
            w.WriteStartObject();
            w.WriteString("name", header.Name);
            switch (header.Kind)
            {
                case HeaderMatchKind.Present:
                    w.WriteBoolean("present", true);
                    break;
                case HeaderMatchKind.Absent:
                    w.WriteBoolean("absent", true);
                    break;
                case HeaderMatchKind.Prefix:
                    w.WriteString("prefix", header.Value);
                    break;
                case HeaderMatchKind.Regex:
                    w.WriteString("regex", header.Value);
                    break;
                default:
                    w.WriteString("exact", header.Value);
                    break;
            }
            if (header.Invert)
            {
                w.WriteBoolean("invert", true);
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteQueryMatches(Utf8JsonWriter w, IReadOnlyList<QueryMatchConfig> query)
    {
        if (query.Count == 0)
        {
            return;
        }
        w.WriteStartArray("query");
        foreach (var parameter in query)
        {
            w.WriteStartObject();
            w.WriteString("name", parameter.Name);
            switch (parameter.Kind)
            {
                case QueryMatchKind.Present:
                    w.WriteBoolean("present", true);
                    break;
                case QueryMatchKind.Prefix:
                    w.WriteString("prefix", parameter.Value);
                    break;
                case QueryMatchKind.Regex:
                    w.WriteString("regex", parameter.Value);
                    break;
                default:
                    w.WriteString("exact", parameter.Value);
                    break;
            }
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteVirtualHost(Utf8JsonWriter w, VirtualHostConfig host)
    {
        w.WriteStartObject();
        w.WriteString("name", host.Name);
        Strings(w, "domains", host.Domains);
        OptionalDuration(w, "timeout", host.Timeout);
        WriteRetries(w, host.Retries);
        WriteHeaderChanges(w, "request_headers", host.RequestHeaders);
        WriteHeaderChanges(w, "response_headers", host.ResponseHeaders);
        w.WriteStartArray("routes");
        foreach (var route in host.Routes)
        {
            WriteRoute(w, route);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>A request_headers or response_headers section, as the file would say it.</summary>
    private static void WriteHeaderChanges(Utf8JsonWriter w, string key, HeaderChangesConfig? changes)
    {
        if (changes is null)
        {
            return;
        }
        w.WriteStartObject(key);
        foreach (var (verb, fields) in new[] { ("add", changes.Add), ("set", changes.Set), ("set_if_absent", changes.SetIfAbsent) })
        {
            if (fields.Count == 0)
            {
                continue;
            }
            w.WriteStartObject(verb);
            foreach (var field in fields)
            {
                w.WriteString(field.Name, field.Value);
            }
            w.WriteEndObject();
        }
        if (changes.Remove.Count > 0)
        {
            Strings(w, "remove", changes.Remove);
        }
        w.WriteEndObject();
    }
}
