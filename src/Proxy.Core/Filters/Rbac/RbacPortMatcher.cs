namespace Proxy.Filters.Rbac;

/// <summary>
/// A <c>destination_port</c> (one port) or <c>destination_port_range</c> (start inclusive, end exclusive) rule on the
/// connection's destination: behind an iptables redirect, the port the client dialled.
/// </summary>
public sealed class RbacPortMatcher(int first, int endExclusive) : RbacMatcher
{
    public override bool Matches(scoped in RbacRequest request) =>
        request.Connection is { DestinationPort: var port and >= 0 } && port >= first && port < endExclusive;
}
