namespace Proxy.Filters.Rbac;

/// <summary>
/// Envoy's <c>envoy.filters.network.rbac</c>: a listener's connection-level policy sets, judged once when a connection
/// is accepted (after its TLS handshake, so its certificate's names are known); a connection one of them refuses is
/// closed before a byte reaches the upstream. Its rules read only the connection (the translator refuses header and
/// path rules there).
/// </summary>
public static class RbacConnectionFilter
{
    /// <summary>True when every policy set of <paramref name="engines"/> lets <paramref name="connection"/> through.</summary>
    public static bool Allows(IReadOnlyList<RbacEngine> engines, RbacConnection connection)
    {
        var request = new RbacRequest(connection, null, default);
        foreach (var engine in engines)
        {
            if (!engine.Allows(in request))
            {
                return false;
            }
        }

        return true;
    }
}
