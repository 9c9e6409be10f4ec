namespace Proxy.Xds.Translation;

/// <summary>An SDS secret a cluster waits for over the ADS stream: its name and what the cluster takes from it.</summary>
public sealed record SecretReference(string Name, SecretKind Kind)
{
    /// <summary>The name the certificate store holds the secret under (apart from inline PEM's names).</summary>
    public string StoreName => StoreNameOf(Name);

    public static string StoreNameOf(string name) => "sds:" + name;
}
