using System.Text.RegularExpressions;

namespace Proxy.Routing;

/// <summary>
/// Turns <see cref="RouteDefinition"/>s into <see cref="Route"/>s, checking every field and collecting every
/// error (a bad configuration is rejected whole, with all its problems listed at once). Build time only.
/// </summary>
internal static partial class RouteCompiler
{
    // NonBacktracking: matching is linear in the input, so a hostile header cannot cause catastrophic
    // backtracking, and it runs without generated IL (native AOT). It rejects backreferences and lookarounds.
    private const RegexOptions HeaderRegexOptions = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    /// <summary>
    /// Compiles one virtual host's definitions; route i gets index <paramref name="firstIndex"/> + i. Route names are
    /// checked against <paramref name="names"/>, shared by the listener's virtual hosts. The returned array is only
    /// meaningful when no error was added.
    /// </summary>
    public static Route[] Compile(
        IReadOnlyList<RouteDefinition> definitions, int firstIndex, int virtualHostIndex, HashSet<string> names, List<RouteDefinitionError> errors)
    {
        var routes = new Route[definitions.Count];
        for (int i = 0; i < routes.Length; i++)
        {
            RouteDefinition? definition = definitions[i];
            if (definition is null)
            {
                errors.Add(new RouteDefinitionError(firstIndex + i, "route", "is null"));
                continue;
            }

            routes[i] = CompileRoute(firstIndex + i, virtualHostIndex, definition, names, errors)!;
        }

        return routes;
    }

    private static Route? CompileRoute(int index, int virtualHostIndex, RouteDefinition definition, HashSet<string> names, List<RouteDefinitionError> errors)
    {
        int errorCount = errors.Count;
        string name = definition.Name ?? $"route-{index}";
        if (definition.Name is not null)
        {
            if (string.IsNullOrWhiteSpace(definition.Name))
            {
                errors.Add(new RouteDefinitionError(index, "name", "must not be empty"));
            }
            else if (!names.Add(definition.Name))
            {
                errors.Add(new RouteDefinitionError(index, "name", $"'{definition.Name}' is used by an earlier route"));
            }
        }

        RouteMatchDefinition match = definition.Match ?? RouteMatchDefinition.Any;
        HostMatcher host = CompileHost(index, match.Host, errors);
        PathMatcher path = CompilePath(index, match, errors);
        MethodMatcher method = CompileMethods(index, match.Methods, errors);
        HeaderMatcher[] headers = CompileHeaders(index, match.Headers, errors);
        QueryParameterMatcher[] query = CompileQuery(index, match.Query, errors);
        (string[] clusters, int[] weights) = CompileAction(index, definition, errors);

        return errors.Count == errorCount
            ? new Route(index, name, host, path, method, headers, query, match.Grpc, clusters, weights, virtualHostIndex)
            : null;
    }

    private static HostMatcher CompileHost(int index, string? host, List<RouteDefinitionError> errors)
    {
        const string Field = "match.host";
        if (host is null || host == "*")
        {
            return HostMatcher.Any;
        }

        if (host.StartsWith("*.", StringComparison.Ordinal))
        {
            // The domain after "*.", without the optional trailing dot of the fully qualified form.
            string domain = host.Substring(2);
            if (domain.EndsWith('.'))
            {
                domain = domain.Substring(0, domain.Length - 1);
            }

            if (!IsRegName(domain, out _))
            {
                errors.Add(new RouteDefinitionError(index, Field, $"'{host}': a wildcard is '*.' followed by a domain, like '*.example.com'"));
                return default;
            }

            return HostMatcher.Wildcard("." + domain);
        }

        if (host.Contains('*'))
        {
            errors.Add(new RouteDefinitionError(index, Field, $"'{host}': '*' is only allowed as a whole first label ('*.example.com') or alone"));
            return default;
        }

        if (host.StartsWith('['))
        {
            // IP-literal (RFC 3986 section 3.2.2): hex digits, ':' and '.' between brackets.
            bool valid = host.Length > 2 && host.EndsWith(']');
            for (int i = 1; valid && i < host.Length - 1; i++)
            {
                char c = host[i];
                valid = char.IsAsciiHexDigit(c) || c == ':' || c == '.';
            }

            if (!valid)
            {
                errors.Add(new RouteDefinitionError(index, Field, $"'{host}': an IPv6 host is written '[address]' with no port"));
                return default;
            }

            return HostMatcher.Exact(host);
        }

        // One trailing dot (fully qualified form) is dropped, as it is from request hosts.
        string name = host.EndsWith('.') ? host.Substring(0, host.Length - 1) : host;
        if (!IsRegName(name, out string? error))
        {
            errors.Add(new RouteDefinitionError(index, Field, $"'{host}': {error}"));
            return default;
        }

        return HostMatcher.Exact(name);
    }

    private static bool IsRegName(ReadOnlySpan<char> name, out string? problem)
    {
        if (name.IsEmpty)
        {
            problem = "must not be empty";
            return false;
        }

        if (name[0] == '.' || name[^1] == '.' || name.Contains("..", StringComparison.Ordinal))
        {
            problem = "must not have empty labels";
            return false;
        }

        foreach (char c in name)
        {
            if (c == ':')
            {
                problem = "must not contain a port (the request's port is ignored when matching)";
                return false;
            }

            if (!char.IsAscii(c))
            {
                problem = "must be ASCII; write internationalized names in their 'xn--' form";
                return false;
            }

            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '.' && c != '_')
            {
                problem = $"character '{c}' is not allowed in a host name";
                return false;
            }
        }

        problem = null;
        return true;
    }

    private static PathMatcher CompilePath(int index, RouteMatchDefinition match, List<RouteDefinitionError> errors)
    {
        int kinds = (match.PathExact is null ? 0 : 1) + (match.PathPrefix is null ? 0 : 1) + (match.PathRegex is null ? 0 : 1);
        if (kinds > 1)
        {
            errors.Add(new RouteDefinitionError(index, "match", $"set one of path_exact, path_prefix and path_regex, not {(kinds == 2 ? "both" : "all three")}"));
            return default;
        }

        if (match.PathRegex is not null)
        {
            if (!match.CaseSensitive)
            {
                errors.Add(new RouteDefinitionError(index, "match.case_sensitive", "applies to path_exact and path_prefix; for path_regex write '(?i)' at the start of the pattern"));
                return default;
            }

            return CompileRegex(index, "match.path_regex", match.PathRegex, errors) is { } regex ? PathMatcher.Pattern(regex) : default;
        }

        if (match.PathExact is not null)
        {
            return CheckPath(index, "match.path_exact", match.PathExact, errors) ? PathMatcher.Exact(match.PathExact, !match.CaseSensitive) : default;
        }

        if (match.PathPrefix is not null)
        {
            return CheckPath(index, "match.path_prefix", match.PathPrefix, errors) ? PathMatcher.Prefix(match.PathPrefix, !match.CaseSensitive) : default;
        }

        return PathMatcher.Any;
    }

    private static bool CheckPath(int index, string field, string path, List<RouteDefinitionError> errors)
    {
        if (!path.StartsWith('/'))
        {
            errors.Add(new RouteDefinitionError(index, field, $"'{path}' must start with '/'"));
            return false;
        }

        foreach (char c in path)
        {
            if (c == '?' || c == '#')
            {
                errors.Add(new RouteDefinitionError(index, field, $"'{path}' must not contain '{c}': paths are matched without the query string"));
                return false;
            }

            if (c <= ' ' || c == '\u007f')
            {
                errors.Add(new RouteDefinitionError(index, field, $"'{path}' must not contain spaces or control characters"));
                return false;
            }
        }

        return true;
    }

    private static MethodMatcher CompileMethods(int index, IReadOnlyList<string>? methods, List<RouteDefinitionError> errors)
    {
        if (methods is null || methods.Count == 0)
        {
            return MethodMatcher.Any;
        }

        bool valid = true;
        for (int i = 0; i < methods.Count; i++)
        {
            if (!IsToken(methods[i]))
            {
                errors.Add(new RouteDefinitionError(index, $"match.method[{i}]", $"'{methods[i]}' is not a method token"));
                valid = false;
            }
        }

        return valid ? MethodMatcher.OneOf(methods) : default;
    }

    private static (string[] Clusters, int[] Weights) CompileAction(int index, RouteDefinition definition, List<RouteDefinitionError> errors)
    {
        if (definition.AnswersLocally)
        {
            if (definition.Cluster is not null || definition.Split is not null)
            {
                errors.Add(new RouteDefinitionError(index, definition.Cluster is not null ? "cluster" : "split", "a route that answers by itself names no cluster"));
            }

            return ([], []);
        }

        if (definition.Cluster is not null && definition.Split is not null)
        {
            errors.Add(new RouteDefinitionError(index, "cluster", "set cluster or split, not both"));
            return ([], []);
        }

        if (definition.Cluster is not null)
        {
            if (string.IsNullOrWhiteSpace(definition.Cluster))
            {
                errors.Add(new RouteDefinitionError(index, "cluster", "must not be empty"));
            }

            return ([definition.Cluster], [1]);
        }

        IReadOnlyList<WeightedClusterDefinition>? split = definition.Split;
        if (split is null || split.Count == 0)
        {
            errors.Add(new RouteDefinitionError(index, split is null ? "cluster" : "split", split is null ? "a route needs a cluster or a split" : "must list at least one cluster"));
            return ([], []);
        }

        var clusters = new string[split.Count];
        var weights = new int[split.Count];
        long total = 0;
        for (int i = 0; i < split.Count; i++)
        {
            WeightedClusterDefinition? arm = split[i];
            if (arm is null)
            {
                errors.Add(new RouteDefinitionError(index, $"split[{i}]", "is null"));
                continue;
            }

            if (string.IsNullOrWhiteSpace(arm.Cluster))
            {
                errors.Add(new RouteDefinitionError(index, $"split[{i}].cluster", "must not be empty"));
            }
            else if (Array.IndexOf(clusters, arm.Cluster, 0, i) >= 0)
            {
                errors.Add(new RouteDefinitionError(index, $"split[{i}].cluster", $"'{arm.Cluster}' appears more than once in the split"));
            }

            if (arm.Weight < 0)
            {
                errors.Add(new RouteDefinitionError(index, $"split[{i}].weight", $"{arm.Weight} is negative"));
            }
            else
            {
                total += arm.Weight;
            }

            clusters[i] = arm.Cluster!;
            weights[i] = arm.Weight;
        }

        if (total == 0)
        {
            errors.Add(new RouteDefinitionError(index, "split", "the weights must add up to more than 0"));
        }
        else if (total > int.MaxValue)
        {
            errors.Add(new RouteDefinitionError(index, "split", $"the weights add up to {total}, more than {int.MaxValue}"));
        }

        return (clusters, weights);
    }

    // RFC 9110 section 5.6.2: token = 1*tchar.
    private static bool IsToken(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        foreach (char c in value)
        {
            bool tchar = char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c);
            if (!tchar)
            {
                return false;
            }
        }

        return true;
    }

    // RFC 9110 section 5.5: no CR, LF or NUL (or other controls but HTAB), and no leading or trailing
    // whitespace, since request values are compared with their surrounding whitespace removed.
    private static bool IsFieldValue(string value)
    {
        foreach (char c in value)
        {
            if ((c < ' ' && c != '\t') || c == '\u007f')
            {
                return false;
            }
        }

        return value.Length == 0 || (value[0] is not (' ' or '\t') && value[^1] is not (' ' or '\t'));
    }
}
