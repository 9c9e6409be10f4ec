using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Proxy.Tls;

namespace Proxy.Host.Admin;

/// <summary>
/// GET /certs: every certificate the proxy serves or presents (listener, cluster and mesh
/// identity certificates) and every CA bundle it trusts, as loaded now (rotations included):
/// subject, issuer, SANs, serial number, validity and days until expiry, as JSON (Envoy's /certs).
/// </summary>
public static class CertsPage
{
    public static AdminResponse Render(CertificateStore store, DateTimeOffset now)
    {
        var (certificates, bundles) = store.Loaded();
        return AdminResponse.Json(200, AdminJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("certificates");
            foreach (var source in certificates)
            {
                var current = source.Current;
                w.WriteStartObject();
                w.WriteString("path", source.CertPath);
                w.WriteString("key_path", source.KeyPath);
                w.WriteNumber("version", current.Version);
                if (source.LastError is not null)
                {
                    w.WriteString("last_reload_error", "the files changed but could not be loaded; the previous certificate stays in use");
                }

                w.WritePropertyName("cert");
                WriteCertificate(w, current.Leaf, now);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartArray("ca_bundles");
            foreach (var bundle in bundles)
            {
                w.WriteStartObject();
                w.WriteString("path", bundle.Path);
                w.WriteStartArray("certs");
                foreach (var root in bundle.Roots)
                {
                    WriteCertificate(w, root, now);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }));
    }

    private static void WriteCertificate(Utf8JsonWriter w, X509Certificate2 certificate, DateTimeOffset now)
    {
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        w.WriteStartObject();
        w.WriteString("subject", certificate.Subject);
        w.WriteString("issuer", certificate.Issuer);
        w.WriteString("serial_number", certificate.SerialNumber.ToLowerInvariant());
        w.WriteStartArray("subject_alt_names");
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value == "2.5.29.17")
            {
                var san = new X509SubjectAlternativeNameExtension(extension.RawData);
                foreach (var dns in san.EnumerateDnsNames())
                {
                    w.WriteStartObject();
                    w.WriteString("dns", dns);
                    w.WriteEndObject();
                }

                foreach (var ip in san.EnumerateIPAddresses())
                {
                    w.WriteStartObject();
                    w.WriteString("ip_address", ip.ToString());
                    w.WriteEndObject();
                }
            }
        }

        // URI SANs (SPIFFE IDs) are not enumerated by the extension type; the identity reader knows them.
        if (SpiffeId.FromCertificate(certificate) is { } id)
        {
            w.WriteStartObject();
            w.WriteString("uri", id.Value);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteString("valid_from", FormatTime(certificate.NotBefore));
        w.WriteString("expiration_time", FormatTime(certificate.NotAfter));
        w.WriteNumber("days_until_expiration", Math.Max(0, (int)Math.Floor((notAfter - now).TotalDays)));
        w.WriteEndObject();
    }

    private static string FormatTime(DateTime time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
