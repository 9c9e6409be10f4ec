using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// What translation needs from the proxy's own configuration: the SDS servers it may dial beside the management server
/// (<c>xds.secret_servers</c>, by the <c>envoy_grpc.cluster_name</c> resources name them with), and the mesh identity
/// (<c>mesh.identity</c>), which stands in for the secrets istio-agent serves over its SDS socket (<c>default</c>, the
/// workload certificate, and <c>ROOTCA</c>, the trust bundle) when that socket is not among them.
/// </summary>
public sealed record XdsTranslationContext(MeshIdentityConfig? MeshIdentity)
{
    public static XdsTranslationContext Empty { get; } = new((MeshIdentityConfig?)null);

    /// <summary>The names of the SDS servers in <c>xds.secret_servers</c>.</summary>
    public IReadOnlySet<string> SecretServers { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}
