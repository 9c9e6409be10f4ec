using System.Net;

namespace Proxy.Filters.Rbac;

/// <summary>
/// A CIDR rule (<c>direct_remote_ip</c>, <c>remote_ip</c>, <c>source_ip</c>, <c>destination_ip</c>): the address is
/// in <paramref name="network"/>. An unknown address matches nothing.
/// </summary>
public sealed class RbacCidrMatcher(RbacAddressSource source, IPNetwork network) : RbacMatcher
{
    public override bool Matches(scoped in RbacRequest request)
    {
        var address = source == RbacAddressSource.Remote ? request.Connection?.Remote : request.Connection?.DestinationAddress;
        return address is not null && network.Contains(address);
    }
}
