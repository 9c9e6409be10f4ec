using Proxy.Configuration.Syntax;

namespace Proxy.Configuration.Binding;

/// <summary>Query parameter matcher binding (<c>match.query</c>).</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] QueryMatchKeys = ["name", "exact", "prefix", "regex", "present"];

    private static ConfigList<QueryMatchConfig> BindQueryMatches(BindContext ctx, ConfigNode node, string path)
    {
        if (node is not ConfigSequence)
        {
            ctx.Error(node, path, $"expected a sequence of query parameter matchers like '- {{ name: version, exact: \"2\" }}', found {node.Kind}");
            return ConfigList<QueryMatchConfig>.Empty;
        }
        return BindList(ctx, node, path, BindQueryMatch);
    }

    private static QueryMatchConfig? BindQueryMatch(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, QueryMatchKeys);
        if (map is null)
        {
            return null;
        }
        string? name = map.String("name", required: true);
        int kinds = (map.Has("exact") ? 1 : 0) + (map.Has("prefix") ? 1 : 0) + (map.Has("regex") ? 1 : 0) + (map.Has("present") ? 1 : 0);
        if (kinds != 1)
        {
            ctx.Error(map.Node, path, "a query parameter matcher needs exactly one of: exact, prefix, regex, present");
            return null;
        }
        QueryMatchKind kind;
        string? value;
        if (map.Has("exact"))
        {
            (kind, value) = (QueryMatchKind.Exact, map.String("exact"));
        }
        else if (map.Has("prefix"))
        {
            (kind, value) = (QueryMatchKind.Prefix, map.String("prefix"));
        }
        else if (map.Has("regex"))
        {
            (kind, value) = (QueryMatchKind.Regex, CheckRegex(map, "regex"));
        }
        else
        {
            if (!map.Bool("present", true))
            {
                map.Error("present", "only 'present: true' is supported for a query parameter; remove 'present' or set it to true");
            }
            (kind, value) = (QueryMatchKind.Present, null);
        }
        if (name is null || (value is null && kind != QueryMatchKind.Present))
        {
            return null;
        }
        return new QueryMatchConfig { Name = name, Kind = kind, Value = value };
    }
}
