namespace Proxy.Filters.Rbac;

/// <summary>Which address of the connection a CIDR rule reads.</summary>
public enum RbacAddressSource
{
    /// <summary>The client's (Envoy's <c>direct_remote_ip</c>, <c>remote_ip</c> and the deprecated <c>source_ip</c>).</summary>
    Remote,

    /// <summary>The destination's (<c>destination_ip</c>).</summary>
    Destination,
}
