namespace Proxy.Fuzz.XdsTargets;

/// <summary>Which resource an xds-translation input holds: its first byte modulo 5.</summary>
public enum XdsResourceKind
{
    Cluster = 0,
    ClusterLoadAssignment = 1,
    Listener = 2,
    RouteConfiguration = 3,
    Secret = 4,
}
