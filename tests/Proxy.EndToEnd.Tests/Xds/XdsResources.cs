using Envoy.Config.Cluster.V3;
using Envoy.Config.Core.V3;
using Envoy.Config.Endpoint.V3;
using Google.Protobuf.WellKnownTypes;

namespace Proxy.EndToEnd.Tests.Xds;

/// <summary>Envoy v3 resources as a control plane would send them, built for the tests.</summary>
public static class XdsResources
{
    public static Cluster EdsCluster(string name, string? serviceName = null) => new()
    {
        Name = name,
        Type = Cluster.Types.DiscoveryType.Eds,
        ConnectTimeout = Duration.FromTimeSpan(TimeSpan.FromSeconds(1)),
        EdsClusterConfig = new Cluster.Types.EdsClusterConfig
        {
            EdsConfig = new ConfigSource { Ads = new AggregatedConfigSource(), ResourceApiVersion = ApiVersion.V3 },
            ServiceName = serviceName ?? "",
        },
    };

    public static Cluster StaticCluster(string name, params string[] addresses) => new()
    {
        Name = name,
        Type = Cluster.Types.DiscoveryType.Static,
        LoadAssignment = Assignment(name, addresses),
    };

    /// <summary>A load assignment with one locality holding <paramref name="addresses"/> (host:port), all healthy.</summary>
    public static ClusterLoadAssignment Assignment(string name, params string[] addresses)
    {
        var locality = new LocalityLbEndpoints { Locality = new Locality { Region = "r1", Zone = "z1" } };
        foreach (var address in addresses)
        {
            var colon = address.LastIndexOf(':');
            locality.LbEndpoints.Add(new LbEndpoint
            {
                HealthStatus = HealthStatus.Healthy,
                Endpoint = new Endpoint
                {
                    Address = new Address
                    {
                        SocketAddress = new SocketAddress { Address = address[..colon], PortValue = uint.Parse(address[(colon + 1)..]) },
                    },
                },
            });
        }

        var assignment = new ClusterLoadAssignment { ClusterName = name };
        assignment.Endpoints.Add(locality);
        return assignment;
    }
}
