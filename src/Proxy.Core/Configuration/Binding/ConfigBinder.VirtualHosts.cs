using Proxy.Configuration.Syntax;
using Proxy.Routing;

namespace Proxy.Configuration.Binding;

/// <summary>Virtual host binding: domains (checked with the router's own parser), routes and route defaults.</summary>
internal static partial class ConfigBinder
{
    private static readonly string[] VirtualHostKeys = ["name", "domains", "routes", "retries", "timeout", "request_headers", "response_headers"];

    /// <summary>Binds a listener's <c>virtual_hosts</c>; a domain in two of them is an error at the second.</summary>
    private static ConfigList<VirtualHostConfig> BindVirtualHosts(BindContext ctx, ConfigNode node, string path)
    {
        var items = ctx.ReadSequence(node, path);
        if (items is null)
        {
            return ConfigList<VirtualHostConfig>.Empty;
        }
        if (items.Count == 0)
        {
            ctx.Error(node, path, "an http listener needs at least one virtual host; add one, or use 'routes'");
        }
        var hosts = new List<VirtualHostConfig>(items.Count);
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var domains = new Dictionary<string, (string Host, int Line)>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            string itemPath = BindContext.Index(path, i);
            var map = MappingView.Open(ctx, items[i], itemPath, VirtualHostKeys);
            if (map is null)
            {
                continue;
            }
            string? name = map.String("name", required: true);
            if (name is not null && !names.TryAdd(name, map.Node.Line))
            {
                map.Error("name", $"duplicate virtual host name '{name}' (also line {names[name]}); give each virtual host its own name");
            }
            var hostDomains = BindDomains(ctx, map, name ?? itemPath, domains);
            var routes = map.Require("routes") is { } routesNode ? BindList(ctx, routesNode, map.ChildPath("routes"), BindRoute) : ConfigList<RouteConfig>.Empty;
            if (map.Get("routes") is ConfigSequence { Items.Count: 0 })
            {
                map.Error("routes", "a virtual host needs at least one route");
            }
            var retries = map.Get("retries") is { } retriesNode ? BindRetries(ctx, retriesNode, map.ChildPath("retries")) : null;
            var timeout = map.OptionalDuration("timeout");
            var requestHeaders = map.Get("request_headers") is { } requestNode ? BindHeaderChanges(ctx, requestNode, map.ChildPath("request_headers"), forResponse: false) : null;
            var responseHeaders = map.Get("response_headers") is { } responseNode ? BindHeaderChanges(ctx, responseNode, map.ChildPath("response_headers"), forResponse: true) : null;
            if (name is not null)
            {
                hosts.Add(new VirtualHostConfig
                {
                    Name = name, Domains = hostDomains, Routes = routes, Retries = retries, Timeout = timeout,
                    RequestHeaders = requestHeaders, ResponseHeaders = responseHeaders,
                });
            }
        }
        return ConfigList<VirtualHostConfig>.From(hosts);
    }

    private static ConfigList<string> BindDomains(BindContext ctx, MappingView map, string hostName, Dictionary<string, (string Host, int Line)> listenerDomains)
    {
        if (map.Require("domains") is not { } node || ctx.ReadSequence(node, map.ChildPath("domains")) is not { } items)
        {
            return ConfigList<string>.Empty;
        }
        if (items.Count == 0)
        {
            map.Error("domains", "a virtual host needs at least one domain; write '*' for every host");
        }
        var list = new List<string>(items.Count);
        for (int d = 0; d < items.Count; d++)
        {
            string itemPath = BindContext.Index(map.ChildPath("domains"), d);
            if (ctx.ReadString(items[d], itemPath) is not { } domain)
            {
                continue;
            }
            if (!DomainPattern.TryParse(domain, out DomainPattern pattern, out string? problem))
            {
                ctx.Error(items[d], itemPath, problem);
                continue;
            }

            // Compared in canonical form, so "API.example.com" and "api.example.com." are the same domain.
            string key = pattern.ToString();
            if (listenerDomains.TryGetValue(key, out var first))
            {
                ctx.Error(items[d], itemPath, first.Host == hostName
                    ? $"the domain '{domain}' is listed twice in this virtual host; remove one"
                    : $"the domain '{domain}' also belongs to virtual host '{first.Host}' (line {first.Line}); a request for it could reach only one of them, so keep it in one");
                continue;
            }
            listenerDomains[key] = (hostName, items[d].Line);
            list.Add(domain);
        }
        return ConfigList<string>.From(list);
    }

    /// <summary>
    /// Route names label metrics and logs, so two routes of one listener (in any of its virtual hosts) must not
    /// share one: the second is an error naming the first's line.
    /// </summary>
    private static void CheckRouteNamesUnique(BindContext ctx, MappingView listener)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (routes, routesPath) in RouteSequences(listener))
        {
            for (int i = 0; i < routes.Items.Count; i++)
            {
                if (routes.Items[i] is ConfigMapping route && route.Find("name") is ConfigScalar { IsNull: false } nameNode)
                {
                    if (!names.TryAdd(nameNode.Value, nameNode.Line))
                    {
                        ctx.Error(nameNode, BindContext.Index(routesPath, i) + ".name",
                            $"duplicate route name '{nameNode.Value}' (also line {names[nameNode.Value]}); route names label metrics, so give each route of a listener its own");
                    }
                }
            }
        }
    }

    /// <summary>The listener's route sequences with their paths: its plain routes, or each virtual host's routes.</summary>
    private static List<(ConfigSequence Routes, string Path)> RouteSequences(MappingView listener)
    {
        var sequences = new List<(ConfigSequence, string)>();
        if (listener.Get("routes") is ConfigSequence plain)
        {
            sequences.Add((plain, listener.ChildPath("routes")));
        }
        if (listener.Get("virtual_hosts") is ConfigSequence hosts)
        {
            for (int v = 0; v < hosts.Items.Count; v++)
            {
                if (hosts.Items[v] is ConfigMapping host && host.Find("routes") is ConfigSequence routes)
                {
                    sequences.Add((routes, BindContext.Index(listener.ChildPath("virtual_hosts"), v) + ".routes"));
                }
            }
        }
        return sequences;
    }
}
