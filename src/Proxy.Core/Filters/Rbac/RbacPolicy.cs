namespace Proxy.Filters.Rbac;

/// <summary>
/// One named policy (Envoy's <c>Policy</c>): it matches a request when some permission and some principal do.
/// <paramref name="permission"/> and <paramref name="principal"/> are the lists as "or" nodes.
/// </summary>
public sealed class RbacPolicy(string name, RbacMatcher permission, RbacMatcher principal)
{
    public string Name { get; } = name;

    public RbacMatcher Permission { get; } = permission;

    public RbacMatcher Principal { get; } = principal;

    public bool Matches(scoped in RbacRequest request) => Permission.Matches(in request) && Principal.Matches(in request);
}
