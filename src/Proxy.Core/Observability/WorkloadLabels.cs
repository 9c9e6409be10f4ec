namespace Proxy.Observability;

/// <summary>
/// Who one side of a request is, in the words of Istio's standard metrics (<c>source_workload</c>,
/// <c>source_workload_namespace</c>, <c>source_principal</c>, <c>source_app</c>, <c>source_version</c>, and their
/// <c>destination_</c> twins). "unknown" where nothing says.
/// </summary>
public sealed record WorkloadLabels(string Workload, string Namespace, string Principal, string App, string Version)
{
    public const string UnknownValue = "unknown";

    /// <summary>Nothing known.</summary>
    public static WorkloadLabels Unknown { get; } = new(UnknownValue, UnknownValue, UnknownValue, UnknownValue, UnknownValue);

    /// <summary>
    /// What a SPIFFE ID alone tells: the principal, and the namespace of Istio's form
    /// <c>spiffe://trust-domain/ns/NAMESPACE/sa/ACCOUNT</c> (Istio fills the namespace the same way when the peer sent no metadata).
    /// </summary>
    public static WorkloadLabels FromPrincipal(string? principal)
    {
        if (string.IsNullOrEmpty(principal) || principal == UnknownValue)
        {
            return Unknown;
        }

        return Unknown with { Principal = principal, Namespace = NamespaceOf(principal) ?? UnknownValue };
    }

    /// <summary>
    /// This sidecar's own workload: what <c>mesh.workload</c> says, the namespace from the workload certificate's SPIFFE
    /// ID when not said, and the app named after the workload when not said (Istio's canonical-service fallback).
    /// </summary>
    public static WorkloadLabels Local(Configuration.MeshWorkloadConfig config, string? principal)
    {
        var known = FromPrincipal(principal);
        return new WorkloadLabels(
            config.Name ?? UnknownValue,
            config.Namespace ?? known.Namespace,
            known.Principal,
            config.App ?? config.Name ?? UnknownValue,
            config.Version ?? UnknownValue);
    }

    /// <summary>The NAMESPACE of <c>spiffe://domain/ns/NAMESPACE/...</c>, or null.</summary>
    public static string? NamespaceOf(string principal)
    {
        var marker = principal.IndexOf("/ns/", StringComparison.Ordinal);
        if (!principal.StartsWith("spiffe://", StringComparison.Ordinal) || marker < 0)
        {
            return null;
        }

        var start = marker + 4;
        var end = principal.IndexOf('/', start);
        var name = end < 0 ? principal[start..] : principal[start..end];
        return name.Length > 0 ? name : null;
    }
}
