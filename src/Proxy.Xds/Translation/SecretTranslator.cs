using System.Text;
using Envoy.Config.Core.V3;
using Envoy.Extensions.TransportSockets.Tls.V3;

namespace Proxy.Xds.Translation;

/// <summary>
/// Turns an SDS <c>Secret</c> into PEM text: a <c>tls_certificate</c> (certificate chain and private key) or a
/// <c>validation_context</c> (its <c>trusted_ca</c>). The names a server must carry stay with the cluster's own
/// validation context (<c>combined_validation_context.default_validation_context</c>), as Istio sends them.
/// </summary>
public static class SecretTranslator
{
    public static TranslatedSecret Translate(Secret secret)
    {
        var name = secret.Name;
        if (name.Length == 0)
        {
            throw new XdsRejectedException("a Secret has no name; every secret needs one");
        }

        switch (secret.TypeCase)
        {
            case Secret.TypeOneofCase.TlsCertificate:
                var certificate = secret.TlsCertificate;
                if (certificate.Pkcs12 is not null || certificate.PrivateKeyProvider is not null || certificate.WatchedDirectory is not null || certificate.Password is not null)
                {
                    throw Reject(name, "tls_certificate", "pkcs12, private_key_provider, watched_directory and password are not supported; give certificate_chain and private_key as PEM");
                }

                if (certificate.CertificateChain is null || certificate.PrivateKey is null)
                {
                    throw Reject(name, "tls_certificate", "needs both certificate_chain and private_key");
                }

                return new TranslatedSecret(name, SecretKind.Certificate,
                    Text(certificate.CertificateChain, name, "tls_certificate.certificate_chain"), Text(certificate.PrivateKey, name, "tls_certificate.private_key"), null);
            case Secret.TypeOneofCase.ValidationContext:
                var validation = secret.ValidationContext;
#pragma warning disable CS0612 // match_subject_alt_names is deprecated
                if (validation.MatchTypedSubjectAltNames.Count > 0 || validation.MatchSubjectAltNames.Count > 0 || validation.VerifyCertificateHash.Count > 0
                    || validation.VerifyCertificateSpki.Count > 0 || validation.Crl is not null || validation.CustomValidatorConfig is not null)
#pragma warning restore CS0612
                {
                    throw Reject(name, "validation_context", "only trusted_ca is taken from a validation context secret; put subject alt name matchers in the cluster's combined_validation_context.default_validation_context");
                }

                if (validation.TrustedCa is null)
                {
                    throw Reject(name, "validation_context.trusted_ca", "a validation context secret needs trusted_ca");
                }

                return new TranslatedSecret(name, SecretKind.ValidationContext, null, null, Text(validation.TrustedCa, name, "validation_context.trusted_ca"));
            default:
                throw Reject(name, secret.TypeCase.ToString(), "clusters use only tls_certificate and validation_context secrets");
        }
    }

    private static string Text(DataSource source, string name, string field)
    {
        switch (source.SpecifierCase)
        {
            case DataSource.SpecifierOneofCase.InlineBytes:
                return Encoding.UTF8.GetString(source.InlineBytes.Span);
            case DataSource.SpecifierOneofCase.InlineString:
                return source.InlineString;
            case DataSource.SpecifierOneofCase.Filename:
                try
                {
                    return File.ReadAllText(source.Filename);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    throw Reject(name, field, $"the file {source.Filename} cannot be read; check that it exists and the proxy may read it");
                }

            default:
                throw Reject(name, field, "only filename, inline_bytes and inline_string are supported");
        }
    }

    private static XdsRejectedException Reject(string secret, string field, string why) => new($"secret '{secret}': {field}: {why}");
}
