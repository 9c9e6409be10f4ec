namespace Proxy.Routing;

/// <summary>
/// One query parameter condition of a route match (Envoy's <c>RouteMatch.query_parameters</c>). The request's
/// parameter names and values are percent-decoded before they are compared; when a name repeats, its first
/// occurrence decides.
/// </summary>
/// <param name="Name">Parameter name, compared case-sensitively with the decoded request name.</param>
/// <param name="Kind">How the value is tested.</param>
/// <param name="Value">Exact value, prefix or regex pattern (anchored: it must match the whole value); null for <see cref="QueryMatchKind.Present"/>.</param>
public sealed record QueryMatchDefinition(string Name, QueryMatchKind Kind, string? Value = null);
