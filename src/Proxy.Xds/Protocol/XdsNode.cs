using Envoy.Config.Core.V3;
using Google.Protobuf.WellKnownTypes;
using Proxy.Configuration;

namespace Proxy.Xds.Protocol;

/// <summary>The <c>Node</c> message (envoy.config.core.v3) for the node section of the configuration.</summary>
internal static class XdsNode
{
    public static Node From(XdsNodeConfig config)
    {
        var node = new Node
        {
            Id = config.Id,
            Cluster = config.Cluster,
            UserAgentName = "proxy",
            Metadata = new Struct(),
        };
        foreach (var entry in config.Metadata)
        {
            node.Metadata.Fields[entry.Key] = Value.ForString(entry.Value);
        }

        if (config.Locality is { Region.Length: > 0 } or { Zone.Length: > 0 } or { SubZone.Length: > 0 })
        {
            node.Locality = new Locality { Region = config.Locality.Region, Zone = config.Locality.Zone, SubZone = config.Locality.SubZone };
        }

        return node;
    }
}
