using Envoy.Extensions.Filters.Network.Rbac.V3;
using Proxy.Filters.Rbac;

namespace Proxy.Xds.Translation;

/// <summary>
/// The <c>envoy.filters.network.rbac</c> network filter: its rules, judged once per connection after the TLS handshake
/// (<see cref="RbacConnectionFilter"/>). Its rules read only the connection: header and path rules are rejections.
/// <c>enforcement_type</c> CONTINUOUS judges each read again in Envoy; the facts a connection rule reads do not change
/// during a connection, so one decision is the same. <c>shadow_rules</c> only count (ignored); a matcher tree is a
/// rejection.
/// </summary>
internal static class NetworkRbacTranslator
{
    /// <returns>The engine, or null when the filter lets every connection through (no rules, or LOG).</returns>
    public static RbacEngine? Translate(RBAC filter, string name, bool terminatesTls, string where)
    {
        if (filter.Matcher is not null)
        {
            throw new XdsRejectedException($"{where}.matcher: RBAC as a matcher tree is not supported; send rules");
        }

        return filter.Rules is null ? null
            : RbacTranslator.Translate(filter.Rules, name, terminatesTls ? RbacTranslator.Scope.ConnectionWithTls : RbacTranslator.Scope.Connection, where);
    }
}
