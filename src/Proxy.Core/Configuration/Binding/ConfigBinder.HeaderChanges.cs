using System.Text.RegularExpressions;
using Proxy.Configuration.Syntax;
using Proxy.Headers;
using Proxy.Rewrites;

namespace Proxy.Configuration.Binding;

/// <summary>Header changes (request_headers, response_headers) and the route's rewrites.</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] HeaderChangeKeys = ["add", "set", "set_if_absent", "remove"];
    private static readonly string[] RegexRewriteKeys = ["pattern", "substitution"];

    /// <summary>
    /// Fields a header change may not touch, and what to do instead: the proxy writes the framing and the hop-by-hop
    /// fields itself (RFC 9110 7.6.1, RFC 9112 6), and the host has its own route keys.
    /// </summary>
    private static readonly (string Name, string Instead)[] ProtectedFields =
    [
        ("host", "use host_rewrite or auto_host_rewrite on the route"),
        ("content-length", "the proxy frames every message itself"),
        ("transfer-encoding", "the proxy frames every message itself"),
        ("connection", "it is hop-by-hop and written by the proxy"),
        ("keep-alive", "it is hop-by-hop and written by the proxy"),
        ("proxy-connection", "it is hop-by-hop and written by the proxy"),
        ("te", "it is hop-by-hop and written by the proxy"),
        ("upgrade", "it is hop-by-hop and written by the proxy"),
    ];

    /// <summary>A <c>request_headers</c> or <c>response_headers</c> section.</summary>
    private static HeaderChangesConfig? BindHeaderChanges(BindContext ctx, ConfigNode node, string path, bool forResponse)
    {
        var map = MappingView.Open(ctx, node, path, HeaderChangeKeys);
        if (map is null)
        {
            return null;
        }

        var changes = new HeaderChangesConfig
        {
            Add = BindFieldValues(ctx, map, "add", forResponse),
            Set = BindFieldValues(ctx, map, "set", forResponse),
            SetIfAbsent = BindFieldValues(ctx, map, "set_if_absent", forResponse),
            Remove = BindRemovedFields(ctx, map),
        };
        foreach (var name in changes.Remove)
        {
            if (changes.Set.Any(f => f.Name == name) || changes.Add.Any(f => f.Name == name) || changes.SetIfAbsent.Any(f => f.Name == name))
            {
                map.Error("remove", $"'{name}' is both removed and added here; to replace the field, list it under 'set' only");
            }
        }

        if (changes.IsEmpty)
        {
            ctx.Error(node, path, "this section changes nothing; give it add, set, set_if_absent or remove, or leave it out");
        }

        return changes;
    }

    /// <summary>A mapping of field names to values: <c>{ x-env: prod, x-client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }</c>.</summary>
    private static ConfigList<HeaderValueConfig> BindFieldValues(BindContext ctx, MappingView section, string key, bool forResponse)
    {
        if (section.Get(key) is not { } node)
        {
            return ConfigList<HeaderValueConfig>.Empty;
        }

        var path = section.ChildPath(key);
        if (node is not ConfigMapping mapping)
        {
            ctx.Error(node, path, $"expected a mapping of field names to values, such as {key}: {{ x-env: prod }}, found {node.Kind}");
            return ConfigList<HeaderValueConfig>.Empty;
        }

        var list = new List<HeaderValueConfig>();
        foreach (var (name, value) in mapping.Entries)
        {
            var itemPath = BindContext.Child(path, name.Value);
            if (CheckChangedFieldName(ctx, name, itemPath, name.Value) is not { } lower || ctx.ReadString(value, itemPath) is not { } text)
            {
                continue;
            }

            if (FieldValueTemplate.Parse(text, forResponse, out var error) is null)
            {
                ctx.Error(value, itemPath, $"the value of '{lower}': {error}");
                continue;
            }

            list.Add(new HeaderValueConfig { Name = lower, Value = text });
        }

        return ConfigList<HeaderValueConfig>.From(list);
    }

    private static ConfigList<string> BindRemovedFields(BindContext ctx, MappingView section)
    {
        if (section.Get("remove") is not { } node)
        {
            return ConfigList<string>.Empty;
        }

        var path = section.ChildPath("remove");
        var names = new List<string>();
        foreach (var name in ctx.ReadStringList(node, path))
        {
            if (CheckChangedFieldName(ctx, node, path, name) is { } lower)
            {
                names.Add(lower);
            }
        }

        return ConfigList<string>.From(names);
    }

    /// <summary>The lowercase name, or null (reported) when it is not a field name or names a field the proxy owns.</summary>
    private static string? CheckChangedFieldName(BindContext ctx, ConfigNode at, string path, string name)
    {
        if (!IsToken(name))
        {
            ctx.Error(at, path, $"'{name}' is not a field name (letters, digits and !#$%&'*+-.^_`|~ only; pseudo-headers such as :path cannot be changed)");
            return null;
        }

        var lower = name.ToLowerInvariant();
        foreach (var (field, instead) in ProtectedFields)
        {
            if (field == lower)
            {
                ctx.Error(at, path, $"'{lower}' cannot be changed by a header rule: {instead}");
                return null;
            }
        }

        return lower;
    }

    /// <summary>A route's <c>regex_rewrite</c>: a pattern the non-backtracking engine runs, and a substitution.</summary>
    private static RegexRewriteConfig? BindRegexRewrite(BindContext ctx, ConfigNode node, string path)
    {
        var map = MappingView.Open(ctx, node, path, RegexRewriteKeys);
        if (map is null)
        {
            return null;
        }

        var pattern = map.String("pattern", required: true);
        var substitution = map.String("substitution", required: true);
        if (pattern is null || substitution is null)
        {
            return null;
        }

        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.NonBacktracking);
        }
        catch (RegexParseException e)
        {
            map.Error("pattern", $"invalid regular expression: {e.Error} at offset {e.Offset}");
            return null;
        }
        catch (NotSupportedException)
        {
            map.Error("pattern", "the pattern uses a construct the linear-time engine cannot run (backreferences, lookarounds, atomic groups or conditionals); rewrite it without them");
            return null;
        }

        if (RequestRewrite.CheckSubstitution(substitution, regex.GetGroupNumbers().Length - 1) is { } problem)
        {
            map.Error("substitution", problem);
            return null;
        }

        return new RegexRewriteConfig { Pattern = pattern, Substitution = substitution };
    }

    /// <summary>The route's rewrite keys, checked against each other and the route's match.</summary>
    private static (string? Prefix, RegexRewriteConfig? Regex, string? Host, bool AutoHost) BindRewrites(BindContext ctx, MappingView map)
    {
        var prefix = map.String("prefix_rewrite");
        if (prefix is not null && !prefix.StartsWith('/'))
        {
            map.Error("prefix_rewrite", $"'{prefix}' must start with '/'");
        }

        var regex = map.Get("regex_rewrite") is { } node ? BindRegexRewrite(ctx, node, map.ChildPath("regex_rewrite")) : null;
        if (prefix is not null && map.Has("regex_rewrite"))
        {
            map.Error("regex_rewrite", "a route takes either prefix_rewrite or regex_rewrite, not both");
        }

        var host = map.String("host_rewrite");
        if (host is not null && !HostPort.IsValidHost(host) && !HostPort.TryParse(host, out _, out _))
        {
            map.Error("host_rewrite", $"'{host}' is not a host (a name or an address, with an optional :port)");
        }

        var autoHost = map.Bool("auto_host_rewrite", false);
        if (host is not null && autoHost)
        {
            map.Error("auto_host_rewrite", "a route takes either host_rewrite or auto_host_rewrite, not both");
        }

        return (prefix, regex, host, autoHost);
    }
}
