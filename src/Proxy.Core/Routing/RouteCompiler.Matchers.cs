using System.Text.RegularExpressions;

namespace Proxy.Routing;

/// <summary>Header, query parameter and regex conditions of <see cref="RouteCompiler"/>.</summary>
internal static partial class RouteCompiler
{
    private static HeaderMatcher[] CompileHeaders(int index, IReadOnlyList<HeaderMatchDefinition>? headers, List<RouteDefinitionError> errors)
    {
        if (headers is null || headers.Count == 0)
        {
            return [];
        }

        var matchers = new HeaderMatcher[headers.Count];
        for (int i = 0; i < matchers.Length; i++)
        {
            string field = $"match.headers[{i}]";
            HeaderMatchDefinition? header = headers[i];
            if (header is null)
            {
                errors.Add(new RouteDefinitionError(index, field, "is null"));
                continue;
            }

            if (!IsToken(header.Name))
            {
                errors.Add(new RouteDefinitionError(index, field + ".name", $"'{header.Name}' is not a header field name"));
                continue;
            }

            switch (header.Kind)
            {
                case HeaderMatchKind.Exact:
                    if (header.Value is null || !IsFieldValue(header.Value))
                    {
                        errors.Add(new RouteDefinitionError(index, field + ".value", "an exact match needs a value without control characters or surrounding whitespace"));
                        continue;
                    }

                    matchers[i] = HeaderMatcher.Exact(header.Name, header.Value);
                    break;
                case HeaderMatchKind.Present:
                    if (header.Value is not null)
                    {
                        errors.Add(new RouteDefinitionError(index, field + ".value", "a presence match takes no value"));
                        continue;
                    }

                    matchers[i] = HeaderMatcher.Present(header.Name);
                    break;
                case HeaderMatchKind.Absent:
                    if (header.Value is not null)
                    {
                        errors.Add(new RouteDefinitionError(index, field + ".value", "an absence match takes no value"));
                        continue;
                    }

                    matchers[i] = HeaderMatcher.Absent(header.Name);
                    break;
                case HeaderMatchKind.Prefix:
                    // Trailing whitespace is fine in a prefix ("Bearer "): only the whole value's ends are trimmed.
                    if (string.IsNullOrEmpty(header.Value) || !IsFieldValue(header.Value + "x"))
                    {
                        errors.Add(new RouteDefinitionError(index, field + ".prefix", "a prefix match needs a non-empty value without control characters or leading whitespace"));
                        continue;
                    }

                    matchers[i] = HeaderMatcher.Prefix(header.Name, header.Value);
                    break;
                case HeaderMatchKind.Regex:
                    Regex? regex = CompileRegex(index, field + ".regex", header.Value, errors);
                    if (regex is null)
                    {
                        continue;
                    }

                    matchers[i] = HeaderMatcher.Regex(header.Name, regex);
                    break;
                default:
                    errors.Add(new RouteDefinitionError(index, field, $"unknown match kind {header.Kind}"));
                    break;
            }

            if (header.Invert)
            {
                matchers[i] = matchers[i].Inverted();
            }
        }

        return matchers;
    }

    private static QueryParameterMatcher[] CompileQuery(int index, IReadOnlyList<QueryMatchDefinition>? query, List<RouteDefinitionError> errors)
    {
        if (query is null || query.Count == 0)
        {
            return [];
        }

        var matchers = new QueryParameterMatcher[query.Count];
        for (int i = 0; i < matchers.Length; i++)
        {
            string field = $"match.query[{i}]";
            QueryMatchDefinition? parameter = query[i];
            if (parameter is null)
            {
                errors.Add(new RouteDefinitionError(index, field, "is null"));
                continue;
            }

            if (string.IsNullOrEmpty(parameter.Name))
            {
                errors.Add(new RouteDefinitionError(index, field + ".name", "a query parameter matcher needs the parameter's name"));
                continue;
            }

            switch (parameter.Kind)
            {
                case QueryMatchKind.Present when parameter.Value is not null:
                    errors.Add(new RouteDefinitionError(index, field + ".value", "a presence match takes no value"));
                    break;
                case QueryMatchKind.Present:
                    matchers[i] = new QueryParameterMatcher(parameter.Name, QueryMatchKind.Present, null, null);
                    break;
                case QueryMatchKind.Exact or QueryMatchKind.Prefix when parameter.Value is null:
                    errors.Add(new RouteDefinitionError(index, field + ".value", "an exact or prefix match needs a value"));
                    break;
                case QueryMatchKind.Exact or QueryMatchKind.Prefix:
                    matchers[i] = new QueryParameterMatcher(parameter.Name, parameter.Kind, parameter.Value, null);
                    break;
                case QueryMatchKind.Regex:
                    if (CompileRegex(index, field + ".regex", parameter.Value, errors) is { } regex)
                    {
                        matchers[i] = new QueryParameterMatcher(parameter.Name, QueryMatchKind.Regex, null, regex);
                    }

                    break;
                default:
                    errors.Add(new RouteDefinitionError(index, field, $"unknown match kind {parameter.Kind}"));
                    break;
            }
        }

        return matchers;
    }

    private static Regex? CompileRegex(int index, string field, string? pattern, List<RouteDefinitionError> errors)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            errors.Add(new RouteDefinitionError(index, field, "a regex match needs a pattern"));
            return null;
        }

        try
        {
            // Parse the pattern alone first, so an unbalanced ')' cannot escape the anchoring group below.
            _ = new Regex(pattern, HeaderRegexOptions);

            // Whole-value match, like Envoy's safe_regex: "canary" does not match "not-canary".
            return new Regex($@"\A(?:{pattern})\z", HeaderRegexOptions);
        }
        catch (RegexParseException e)
        {
            // Spelled from the error code and offset: the message text is a resource key in the native binary.
            errors.Add(new RouteDefinitionError(index, field, $"'{pattern}' does not compile: {e.Error} at offset {e.Offset}"));
        }
        catch (ArgumentException)
        {
            errors.Add(new RouteDefinitionError(index, field, $"'{pattern}' does not compile; check its syntax"));
        }
        catch (NotSupportedException)
        {
            // NonBacktracking rejects backreferences, lookarounds, atomic groups and conditionals.
            errors.Add(new RouteDefinitionError(index, field, $"'{pattern}' uses a construct without a linear-time match (a backreference, lookaround, atomic group or conditional); rewrite it without one"));
        }

        return null;
    }
}
