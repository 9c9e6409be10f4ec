using Proxy.Xds.Translation;
using XdsCluster = Envoy.Config.Cluster.V3.Cluster;

namespace Proxy.Xds;

/// <summary>One accepted Cluster: the resource as sent, its translation, and the version and time it arrived with.</summary>
public sealed record AcceptedCluster(XdsCluster Resource, TranslatedCluster Translated, string Version, DateTimeOffset LastUpdated);
