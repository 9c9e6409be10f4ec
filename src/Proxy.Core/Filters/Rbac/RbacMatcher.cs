namespace Proxy.Filters.Rbac;

/// <summary>
/// One compiled node of an RBAC permission or principal (Envoy's <c>Permission</c> / <c>Principal</c> oneof): a set
/// (and, or, not), <c>any</c>, or a leaf that reads one fact of the connection or the request. Compiled once per
/// configuration; <see cref="Matches"/> allocates nothing.
/// </summary>
public abstract class RbacMatcher
{
    /// <summary>True when the request (or connection) satisfies this node.</summary>
    public abstract bool Matches(scoped in RbacRequest request);

    /// <summary>True when this node reads the HTTP request (a header or the path), which a connection does not have.</summary>
    public virtual bool ReadsRequest => false;

    /// <summary>True when this node reads the request's path.</summary>
    public virtual bool ReadsPath => false;
}
