using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Proxy.Filters.Rbac;

/// <summary>
/// The names of a peer certificate an RBAC <c>authenticated.principal_name</c> is matched with, as Envoy reads them
/// (rbac.proto, <c>Principal.Authenticated</c>): every URI SAN, then every DNS SAN, then the subject.
/// </summary>
public static class CertificatePrincipals
{
    private const string SubjectAltNameOid = "2.5.29.17";

    public static byte[][] Of(X509Certificate2 certificate)
    {
        var uris = new List<byte[]>();
        var dns = new List<byte[]>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAltNameOid)
            {
                continue;
            }

            try
            {
                // RFC 5280, 4.2.1.6: GeneralNames ::= SEQUENCE OF GeneralName; dNSName is [2] IMPLICIT IA5String,
                // uniformResourceIdentifier [6] IMPLICIT IA5String.
                var names = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                var dnsTag = new Asn1Tag(TagClass.ContextSpecific, 2);
                var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
                while (names.HasData)
                {
                    var tag = names.PeekTag();
                    if (tag == uriTag)
                    {
                        uris.Add(Encoding.UTF8.GetBytes(names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag)));
                    }
                    else if (tag == dnsTag)
                    {
                        dns.Add(Encoding.UTF8.GetBytes(names.ReadCharacterString(UniversalTagNumber.IA5String, dnsTag)));
                    }
                    else
                    {
                        names.ReadEncodedValue();
                    }
                }
            }
            catch (Exception ex) when (ex is AsnContentException or CryptographicException)
            {
                // A malformed extension proves no name: the subject is still compared.
            }
        }

        uris.AddRange(dns);
        uris.Add(Encoding.UTF8.GetBytes(certificate.SubjectName.Decode(X500DistinguishedNameFlags.UseCommas | X500DistinguishedNameFlags.DoNotUsePlusSign)));
        return [.. uris];
    }
}
