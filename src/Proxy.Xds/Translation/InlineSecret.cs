namespace Proxy.Xds.Translation;

/// <summary>
/// PEM a cluster's TLS context carries inline (<c>inline_bytes</c>, <c>inline_string</c>): a certificate with its key,
/// or a CA bundle. Held by the certificate store under <see cref="StoreName"/>, made of a hash of the content, so the
/// same PEM is one entry however many clusters carry it.
/// </summary>
public sealed record InlineSecret(string StoreName, string? CertificatePem, string? KeyPem, string? CaPem);
