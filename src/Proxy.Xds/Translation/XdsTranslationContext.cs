using Proxy.Configuration;

namespace Proxy.Xds.Translation;

/// <summary>
/// What translation needs from the proxy's own configuration: the mesh identity (<c>mesh.identity</c>), which stands
/// in for the secrets istio-agent serves over its SDS socket (<c>default</c>, the workload certificate, and
/// <c>ROOTCA</c>, the trust bundle).
/// </summary>
public sealed record XdsTranslationContext(MeshIdentityConfig? MeshIdentity)
{
    public static XdsTranslationContext Empty { get; } = new((MeshIdentityConfig?)null);
}
