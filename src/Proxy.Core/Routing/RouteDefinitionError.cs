namespace Proxy.Routing;

/// <summary>One problem found while compiling route definitions, located by route position and field.</summary>
/// <param name="RouteIndex">
/// Position of the route among the routes of all virtual hosts, end to end (for plain routes, in the list given to
/// <see cref="RouteTable.Build(IReadOnlyList{RouteDefinition})"/>); -1 for a problem of a virtual host itself.
/// </param>
/// <param name="Field">Field path inside the route, in configuration spelling ("match.headers[1].value").</param>
/// <param name="Message">What is wrong.</param>
public sealed record RouteDefinitionError(int RouteIndex, string Field, string Message)
{
    /// <summary>"routes[2].match.path_prefix: must start with '/'", or "virtual_hosts[1].domains[0]: ...".</summary>
    public override string ToString() => RouteIndex < 0 ? $"{Field}: {Message}" : $"routes[{RouteIndex}].{Field}: {Message}";
}
