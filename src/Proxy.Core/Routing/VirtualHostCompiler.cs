namespace Proxy.Routing;

/// <summary>
/// Turns <see cref="VirtualHostDefinition"/>s into <see cref="VirtualHost"/>s: parses each domain, rejects a domain
/// named twice in one listener (it could only ever reach one of them), and compiles the routes with indexes that
/// run on across virtual hosts. Collects every error. Build time only.
/// </summary>
internal static class VirtualHostCompiler
{
    /// <summary>Compiles all virtual hosts; the results are only meaningful when no error was added.</summary>
    public static (VirtualHost[] Hosts, Route[] Routes, DomainPattern[][] Domains) Compile(
        IReadOnlyList<VirtualHostDefinition> definitions, List<RouteDefinitionError> errors)
    {
        var hosts = new VirtualHost[definitions.Count];
        var compiledRoutes = new Route[definitions.Count][];
        var names = new string[definitions.Count];
        var domains = new DomainPattern[definitions.Count][];
        var routes = new List<Route>();
        var routeNames = new HashSet<string>(StringComparer.Ordinal);
        var hostNames = new HashSet<string>(StringComparer.Ordinal);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int v = 0; v < definitions.Count; v++)
        {
            string prefix = $"virtual_hosts[{v}]";
            VirtualHostDefinition? definition = definitions[v];
            if (definition is null)
            {
                errors.Add(new RouteDefinitionError(-1, prefix, "is null"));
                domains[v] = [];
                continue;
            }

            string name = definition.Name ?? $"virtual-host-{v}";
            if (definition.Name is not null && !hostNames.Add(definition.Name))
            {
                errors.Add(new RouteDefinitionError(-1, prefix + ".name", $"'{definition.Name}' is used by an earlier virtual host"));
            }

            domains[v] = CompileDomains(prefix, v, definition.Domains, seen, errors);
            Route[] compiled = RouteCompiler.Compile(definition.Routes ?? [], routes.Count, v, routeNames, errors);
            routes.AddRange(compiled);
            compiledRoutes[v] = compiled;
            names[v] = name;
        }

        // Indexes are built over complete routes only; after an error the results are not used.
        for (int v = 0; v < hosts.Length && errors.Count == 0; v++)
        {
            hosts[v] = new VirtualHost(v, names[v], definitions[v].Domains, compiledRoutes[v]);
        }

        return (hosts, routes.ToArray(), domains);
    }

    private static DomainPattern[] CompileDomains(string prefix, int virtualHost, IReadOnlyList<string>? domains, Dictionary<string, int> seen, List<RouteDefinitionError> errors)
    {
        if (domains is null || domains.Count == 0)
        {
            errors.Add(new RouteDefinitionError(-1, prefix + ".domains", "a virtual host needs at least one domain; write '*' for every host"));
            return [];
        }

        var patterns = new List<DomainPattern>(domains.Count);
        for (int d = 0; d < domains.Count; d++)
        {
            string field = $"{prefix}.domains[{d}]";
            if (!DomainPattern.TryParse(domains[d], out DomainPattern pattern, out string? problem))
            {
                errors.Add(new RouteDefinitionError(-1, field, problem));
                continue;
            }

            string key = pattern.ToString();
            if (seen.TryGetValue(key, out int first))
            {
                errors.Add(new RouteDefinitionError(-1, field, first == virtualHost
                    ? $"'{key}' is listed twice in this virtual host"
                    : $"'{key}' is already a domain of virtual_hosts[{first}]; a domain may belong to one virtual host only"));
                continue;
            }

            seen[key] = virtualHost;
            patterns.Add(pattern);
        }

        return [.. patterns];
    }
}
