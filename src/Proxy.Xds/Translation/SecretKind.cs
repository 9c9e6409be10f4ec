namespace Proxy.Xds.Translation;

/// <summary>What a cluster takes from an SDS secret.</summary>
public enum SecretKind
{
    /// <summary>A <c>tls_certificate</c>: the client certificate and key.</summary>
    Certificate,

    /// <summary>A <c>validation_context</c>: the CA bundle the server is verified against.</summary>
    ValidationContext,
}
