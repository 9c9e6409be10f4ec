namespace Proxy.Filters.Rbac;

/// <summary><c>any: true</c>: matches everything.</summary>
public sealed class RbacAnyMatcher : RbacMatcher
{
    public static RbacAnyMatcher Instance { get; } = new();

    private RbacAnyMatcher()
    {
    }

    public override bool Matches(scoped in RbacRequest request) => true;
}
