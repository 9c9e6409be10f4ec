namespace Proxy.Xds.Translation;

/// <summary>
/// An SDS secret a cluster or a listener's TLS chain waits for: its name, what it takes from it, and where it comes
/// from: the ADS stream (<see cref="Server"/> null) or an SDS server of <c>xds.secret_servers</c> by its name.
/// </summary>
public sealed record SecretReference(string Name, SecretKind Kind, string? Server = null)
{
    /// <summary>The name the certificate store holds the secret under (apart from inline PEM's names).</summary>
    public string StoreName => StoreNameOf(Name, Server);

    /// <summary>
    /// <c>sds:NAME</c> for a secret over ADS, <c>sds@SERVER:NAME</c> for one from another SDS server, so istio-agent's
    /// <c>default</c> and a <c>default</c> over ADS are two secrets.
    /// </summary>
    public static string StoreNameOf(string name, string? server = null) => server is null ? "sds:" + name : "sds@" + server + ":" + name;
}
