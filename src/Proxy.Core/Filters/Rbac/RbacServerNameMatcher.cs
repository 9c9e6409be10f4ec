namespace Proxy.Filters.Rbac;

/// <summary>A <c>requested_server_name</c> permission: the SNI the client sent (empty without one).</summary>
public sealed class RbacServerNameMatcher(RbacStringMatcher serverName) : RbacMatcher
{
    public override bool Matches(scoped in RbacRequest request) =>
        serverName.Matches(request.Connection is { } connection ? connection.ServerName : default);
}
