namespace Proxy.Observability;

/// <summary>
/// The service a request went to, as Istio labels it: <c>destination_service</c> (its host name), and the name and
/// namespace that host names in Kubernetes' form <c>NAME.NAMESPACE.svc.cluster.local</c>.
/// </summary>
public sealed record ServiceLabels(string Host, string Name, string Namespace)
{
    /// <summary>The labels of <paramref name="host"/> (a cluster's name when nothing better is known).</summary>
    public static ServiceLabels Of(string host)
    {
        var parts = host.Split('.');
        return parts.Length >= 3 && parts[2] == "svc"
            ? new ServiceLabels(host, parts[0], parts[1])
            : new ServiceLabels(host, host, WorkloadLabels.UnknownValue);
    }
}
