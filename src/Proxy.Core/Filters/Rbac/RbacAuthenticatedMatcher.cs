namespace Proxy.Filters.Rbac;

/// <summary>
/// An <c>authenticated</c> principal: the client proved a certificate the chain verified, and, with a
/// <c>principal_name</c>, one of its names matches (its URI SANs, then its DNS SANs, then its subject, as Envoy
/// compares them; an Istio peer's SPIFFE ID is its URI SAN). A plain-text connection matches none.
/// </summary>
public sealed class RbacAuthenticatedMatcher(RbacStringMatcher? principalName) : RbacMatcher
{
    public override bool Matches(scoped in RbacRequest request)
    {
        if (request.Connection is not { Authenticated: true } connection)
        {
            return false;
        }

        if (principalName is null)
        {
            return true;
        }

        foreach (var name in connection.PrincipalNames)
        {
            if (principalName.Matches(name))
            {
                return true;
            }
        }

        return false;
    }
}
