namespace Proxy.Filters.Rbac;

/// <summary>What an RBAC policy set does with a request one of its policies matches (Envoy's <c>RBAC.Action</c>).</summary>
public enum RbacAction
{
    /// <summary>Only requests some policy matches pass; with no policy, none does.</summary>
    Allow,

    /// <summary>Requests some policy matches are refused; the others pass.</summary>
    Deny,
}
