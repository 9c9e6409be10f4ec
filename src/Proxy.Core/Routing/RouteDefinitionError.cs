namespace Proxy.Routing;

/// <summary>One problem found while compiling route definitions, located by route position and field.</summary>
/// <param name="RouteIndex">Position of the route in the list given to <see cref="RouteTable.Build"/>.</param>
/// <param name="Field">Field path inside the route, in configuration spelling ("match.headers[1].value").</param>
/// <param name="Message">What is wrong.</param>
public sealed record RouteDefinitionError(int RouteIndex, string Field, string Message)
{
    /// <summary>"routes[2].match.path_prefix: must start with '/'".</summary>
    public override string ToString() => $"routes[{RouteIndex}].{Field}: {Message}";
}
