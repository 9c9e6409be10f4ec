using Envoy.Config.Route.V3;
using Envoy.Type.Matcher.V3;
using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// A Route's <c>match</c> as the proxy's <see cref="RouteMatchConfig"/>: <c>prefix</c>, <c>path</c>,
/// <c>safe_regex</c>, <c>case_sensitive</c>, <c>headers</c>, <c>query_parameters</c>, <c>grpc</c>. String matchers the
/// proxy has no kind for (suffix, contains, ignore_case) become the equivalent anchored regex. A condition it cannot
/// evaluate (runtime fractions, TLS context, metadata) is a rejection: dropping it would widen the route.
/// </summary>
internal static class RouteMatchTranslator
{
    public static RouteMatchConfig Translate(RouteMatch match, string where)
    {
        string? prefix = null, exact = null, regex = null;
        switch (match.PathSpecifierCase)
        {
            case RouteMatch.PathSpecifierOneofCase.Prefix:
                prefix = match.Prefix.Length == 0 ? "/" : Path(match.Prefix, where, "match.prefix");
                break;
            case RouteMatch.PathSpecifierOneofCase.Path:
                exact = Path(match.Path, where, "match.path");
                break;
            case RouteMatch.PathSpecifierOneofCase.SafeRegex:
                regex = XdsText.Regex(match.SafeRegex.Regex, where, "match.safe_regex");
                break;
            case RouteMatch.PathSpecifierOneofCase.None:
                throw new XdsRejectedException($"{where}: match: a route needs a path condition (prefix, path or safe_regex)");
            default:
                throw new XdsRejectedException($"{where}: match.{Snake(match.PathSpecifierCase.ToString())}: this path condition is not supported; use prefix, path or safe_regex");
        }

        if (match.RuntimeFraction is not null)
        {
            throw new XdsRejectedException($"{where}: match.runtime_fraction: runtime-sampled routes are not supported (the proxy has no runtime); split traffic with weighted_clusters");
        }

        if (match.TlsContext is not null)
        {
            throw new XdsRejectedException($"{where}: match.tls_context: matching on the client's TLS is not supported");
        }

        if (match.DynamicMetadata.Count > 0)
        {
            throw new XdsRejectedException($"{where}: match.dynamic_metadata: matching on filter metadata is not supported");
        }

        var headers = new List<HeaderMatchConfig>(match.Headers.Count);
        for (var i = 0; i < match.Headers.Count; i++)
        {
            headers.Add(Header(match.Headers[i], where, $"match.headers[{i}]"));
        }

        var query = new List<QueryMatchConfig>(match.QueryParameters.Count);
        for (var i = 0; i < match.QueryParameters.Count; i++)
        {
            query.Add(Query(match.QueryParameters[i], where, $"match.query_parameters[{i}]"));
        }

        return new RouteMatchConfig
        {
            PathPrefix = prefix,
            PathExact = exact,
            PathRegex = regex,
            CaseSensitive = regex is not null || (match.CaseSensitive ?? true),
            Grpc = match.Grpc is not null,
            Headers = ConfigList<HeaderMatchConfig>.From(headers),
            Query = ConfigList<QueryMatchConfig>.From(query),
        };
    }

    private static string Path(string path, string where, string field) =>
        path.StartsWith('/') ? path : throw new XdsRejectedException($"{where}: {field}: '{path}' must start with '/'");

    internal static HeaderMatchConfig Header(HeaderMatcher header, string where, string field)
    {
        if (!XdsText.IsToken(header.Name.TrimStart(':')))
        {
            throw new XdsRejectedException($"{where}: {field}.name: '{header.Name}' is not a header name");
        }

        if (header.TreatMissingHeaderAsEmpty)
        {
            throw new XdsRejectedException($"{where}: {field}.treat_missing_header_as_empty: not supported; match the missing header with present_match: false");
        }

        // Pseudo-headers are matched by the route's own keys in the proxy; :authority is the Host field.
        var name = header.Name.ToLowerInvariant() switch
        {
            ":authority" => "host",
            var n when n.StartsWith(':') => throw new XdsRejectedException($"{where}: {field}.name: matching the pseudo-header '{header.Name}' is not supported; use the route's path and grpc conditions"),
            var n => n,
        };
#pragma warning disable CS0612 // exact_match, prefix_match and the others are deprecated, and still what older servers send
        var (kind, value) = header.HeaderMatchSpecifierCase switch
        {
            HeaderMatcher.HeaderMatchSpecifierOneofCase.None => (HeaderMatchKind.Present, null),
            HeaderMatcher.HeaderMatchSpecifierOneofCase.PresentMatch => (header.PresentMatch ? HeaderMatchKind.Present : HeaderMatchKind.Absent, (string?)null),
            HeaderMatcher.HeaderMatchSpecifierOneofCase.ExactMatch => (HeaderMatchKind.Exact, header.ExactMatch),
            HeaderMatcher.HeaderMatchSpecifierOneofCase.PrefixMatch => (HeaderMatchKind.Prefix, header.PrefixMatch),
            HeaderMatcher.HeaderMatchSpecifierOneofCase.SuffixMatch => (HeaderMatchKind.Regex, ".*" + System.Text.RegularExpressions.Regex.Escape(header.SuffixMatch)),
            HeaderMatcher.HeaderMatchSpecifierOneofCase.ContainsMatch => (HeaderMatchKind.Regex, ".*" + System.Text.RegularExpressions.Regex.Escape(header.ContainsMatch) + ".*"),
            HeaderMatcher.HeaderMatchSpecifierOneofCase.SafeRegexMatch => (HeaderMatchKind.Regex, XdsText.Regex(header.SafeRegexMatch.Regex, where, field + ".safe_regex_match")),
            HeaderMatcher.HeaderMatchSpecifierOneofCase.StringMatch => StringMatch(header.StringMatch, where, field + ".string_match"),
            _ => throw new XdsRejectedException($"{where}: {field}.range_match: range matches on header values are not supported"),
        };
#pragma warning restore CS0612
        return new HeaderMatchConfig { Name = name, Kind = kind, Value = value, Invert = header.InvertMatch };
    }

    private static QueryMatchConfig Query(QueryParameterMatcher parameter, string where, string field)
    {
        if (parameter.Name.Length == 0)
        {
            throw new XdsRejectedException($"{where}: {field}.name: a query parameter matcher needs a name");
        }

        if (parameter.QueryParameterMatchSpecifierCase == QueryParameterMatcher.QueryParameterMatchSpecifierOneofCase.StringMatch)
        {
            var (kind, value) = StringMatch(parameter.StringMatch, where, field + ".string_match");
            return new QueryMatchConfig
            {
                Name = parameter.Name,
                Kind = kind switch
                {
                    HeaderMatchKind.Exact => QueryMatchKind.Exact,
                    HeaderMatchKind.Prefix => QueryMatchKind.Prefix,
                    _ => QueryMatchKind.Regex,
                },
                Value = value,
            };
        }

        // present_match (or nothing, which Envoy reads the same way).
        return new QueryMatchConfig { Name = parameter.Name, Kind = QueryMatchKind.Present };
    }

    /// <summary>A StringMatcher as one of the proxy's kinds; suffix, contains and ignore_case as anchored regexes.</summary>
    private static (HeaderMatchKind Kind, string? Value) StringMatch(StringMatcher matcher, string where, string field)
    {
        var ignoreCase = matcher.IgnoreCase ? "(?i)" : "";
        static string Escape(string text) => System.Text.RegularExpressions.Regex.Escape(text);
        return matcher.MatchPatternCase switch
        {
            StringMatcher.MatchPatternOneofCase.Exact when !matcher.IgnoreCase => (HeaderMatchKind.Exact, matcher.Exact),
            StringMatcher.MatchPatternOneofCase.Exact => (HeaderMatchKind.Regex, ignoreCase + Escape(matcher.Exact)),
            StringMatcher.MatchPatternOneofCase.Prefix when !matcher.IgnoreCase => (HeaderMatchKind.Prefix, matcher.Prefix),
            StringMatcher.MatchPatternOneofCase.Prefix => (HeaderMatchKind.Regex, ignoreCase + Escape(matcher.Prefix) + ".*"),
            StringMatcher.MatchPatternOneofCase.Suffix => (HeaderMatchKind.Regex, ignoreCase + ".*" + Escape(matcher.Suffix)),
            StringMatcher.MatchPatternOneofCase.Contains => (HeaderMatchKind.Regex, ignoreCase + ".*" + Escape(matcher.Contains) + ".*"),
            StringMatcher.MatchPatternOneofCase.SafeRegex => (HeaderMatchKind.Regex, XdsText.Regex(matcher.SafeRegex.Regex, where, field + ".safe_regex")),
            _ => throw new XdsRejectedException($"{where}: {field}: this string matcher is not supported; use exact, prefix, suffix, contains or safe_regex"),
        };
    }

    /// <summary>A oneof case name (PathSeparatedPrefix) in the proto's spelling (path_separated_prefix).</summary>
    internal static string Snake(string name)
    {
        var text = new System.Text.StringBuilder(name.Length + 4);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                text.Append('_');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }
}
