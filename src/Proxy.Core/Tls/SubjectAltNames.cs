using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Proxy.Configuration;

namespace Proxy.Tls;

/// <summary>
/// The subject alternative names of a certificate (RFC 5280, 4.2.1.6) and the check of them against a cluster's
/// <see cref="SubjectAltNameMatchConfig"/> list, as Envoy's <c>match_typed_subject_alt_names</c> does it: the
/// certificate passes when any one of its names satisfies any one matcher of a fitting type.
/// </summary>
public static class SubjectAltNames
{
    private static readonly Asn1Tag Email = new(TagClass.ContextSpecific, 1);
    private static readonly Asn1Tag Dns = new(TagClass.ContextSpecific, 2);
    private static readonly Asn1Tag Uri = new(TagClass.ContextSpecific, 6);
    private static readonly Asn1Tag Ip = new(TagClass.ContextSpecific, 7);

    /// <summary>Whether one of <paramref name="certificate"/>'s names satisfies one of <paramref name="matchers"/>.</summary>
    public static bool Match(X509Certificate2 certificate, IReadOnlyList<SubjectAltNameMatchConfig> matchers)
    {
        foreach (var (type, name) in Read(certificate))
        {
            foreach (var matcher in matchers)
            {
                if ((matcher.Type == SubjectAltNameType.Any || matcher.Type == type) && Satisfies(matcher, name))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>Every DNS, URI, email and IP address name of the certificate, typed; none when the extension is damaged.</summary>
    public static List<(SubjectAltNameType Type, string Name)> Read(X509Certificate2 certificate)
    {
        var names = new List<(SubjectAltNameType, string)>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            try
            {
                // SubjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName, each an IMPLICIT context-tagged choice.
                var sequence = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (sequence.HasData)
                {
                    var tag = sequence.PeekTag();
                    if (tag == Email || tag == Dns || tag == Uri)
                    {
                        var type = tag == Email ? SubjectAltNameType.Email : tag == Dns ? SubjectAltNameType.Dns : SubjectAltNameType.Uri;
                        names.Add((type, sequence.ReadCharacterString(UniversalTagNumber.IA5String, tag)));
                    }
                    else if (tag == Ip)
                    {
                        names.Add((SubjectAltNameType.IpAddress, new IPAddress(sequence.ReadOctetString(tag)).ToString()));
                    }
                    else
                    {
                        sequence.ReadEncodedValue();
                    }
                }
            }
            catch (Exception ex) when (ex is AsnContentException or ArgumentException)
            {
                return [];
            }
        }

        return names;
    }

    private static bool Satisfies(SubjectAltNameMatchConfig matcher, string name)
    {
        var comparison = matcher.IgnoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        return matcher.Kind switch
        {
            SubjectAltNameMatchKind.Exact => string.Equals(name, matcher.Value, comparison),
            SubjectAltNameMatchKind.Prefix => name.StartsWith(matcher.Value, comparison),
            SubjectAltNameMatchKind.Suffix => name.EndsWith(matcher.Value, comparison),
            SubjectAltNameMatchKind.Contains => name.Contains(matcher.Value, comparison),
            _ => false,
        };
    }
}
