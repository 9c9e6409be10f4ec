namespace Proxy.Xds.Translation;

/// <summary>An SDS Secret as PEM: a certificate chain with its key, or a CA bundle.</summary>
public sealed record TranslatedSecret(string Name, SecretKind Kind, string? CertificatePem, string? KeyPem, string? CaPem);
