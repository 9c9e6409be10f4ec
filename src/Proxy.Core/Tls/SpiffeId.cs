using System.Diagnostics.CodeAnalysis;
using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Proxy.Tls;

/// <summary>
/// A SPIFFE ID, <c>spiffe://trust-domain/path</c> (SPIFFE ID specification, sections 2.1 and 2.2):
/// lowercase scheme, a trust domain of <c>[a-z0-9.-_]</c>, path segments of <c>[a-zA-Z0-9.-_]</c>,
/// no empty, "." or ".." segments, no trailing slash, query, fragment, port or user info.
/// </summary>
public sealed class SpiffeId : IEquatable<SpiffeId>
{
    /// <summary>Longest SPIFFE ID accepted (specification section 2.3).</summary>
    public const int MaxLength = 2048;

    private const string Scheme = "spiffe://";

    private SpiffeId(string value, int pathStart)
    {
        Value = value;
        TrustDomain = value[Scheme.Length..pathStart];
        Path = value[pathStart..];
    }

    /// <summary>The whole ID, e.g. <c>spiffe://mesh.local/ns/shop/sa/web</c>.</summary>
    public string Value { get; }

    /// <summary>The trust domain, e.g. <c>mesh.local</c>.</summary>
    public string TrustDomain { get; }

    /// <summary>The path with its leading slash, or empty for the trust domain's own ID.</summary>
    public string Path { get; }

    /// <summary>Parses and validates; <paramref name="error"/> says why on failure.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out SpiffeId? id, [NotNullWhen(false)] out string? error)
    {
        id = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty SPIFFE ID";
            return false;
        }

        if (text.Length > MaxLength)
        {
            error = $"SPIFFE ID longer than {MaxLength} bytes";
            return false;
        }

        if (!text.StartsWith(Scheme, StringComparison.Ordinal))
        {
            error = "a SPIFFE ID starts with 'spiffe://'";
            return false;
        }

        var slash = text.IndexOf('/', Scheme.Length);
        var pathStart = slash < 0 ? text.Length : slash;
        if (pathStart == Scheme.Length)
        {
            error = "the trust domain is empty";
            return false;
        }

        for (var i = Scheme.Length; i < pathStart; i++)
        {
            var c = text[i];
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '.' or '-' or '_'))
            {
                error = c is >= 'A' and <= 'Z'
                    ? "the trust domain must be lowercase"
                    : $"the trust domain may not contain '{c}' (ports, user info, query and fragment are not allowed)";
                return false;
            }
        }

        // Path: "/" segment ("/" segment)*; each segment non-empty, not "." or "..".
        var segmentStart = pathStart + 1;
        for (var i = pathStart + 1; i <= text.Length && pathStart < text.Length; i++)
        {
            if (i == text.Length || text[i] == '/')
            {
                var length = i - segmentStart;
                if (length == 0)
                {
                    error = i == text.Length ? "the path may not end with '/'" : "the path has an empty segment";
                    return false;
                }

                if ((length == 1 && text[segmentStart] == '.') || (length == 2 && text[segmentStart] == '.' && text[segmentStart + 1] == '.'))
                {
                    error = "the path may not contain '.' or '..' segments";
                    return false;
                }

                segmentStart = i + 1;
                continue;
            }

            var c = text[i];
            if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '.' or '-' or '_'))
            {
                error = $"the path may not contain '{c}'";
                return false;
            }
        }

        id = new SpiffeId(text, pathStart);
        error = null;
        return true;
    }

    /// <summary>Parses or throws <see cref="FormatException"/>.</summary>
    public static SpiffeId Parse(string text) =>
        TryParse(text, out var id, out var error) ? id : throw new FormatException($"invalid SPIFFE ID '{text}': {error}");

    /// <summary>
    /// The SPIFFE ID in the certificate's URI subject alternative name. An X.509-SVID has exactly
    /// one URI SAN (X509-SVID specification, section 2); none or several give null.
    /// </summary>
    public static SpiffeId? FromCertificate(X509Certificate2 certificate)
    {
        string? found = null;
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "2.5.29.17")
            {
                continue;
            }

            try
            {
                // RFC 5280, 4.2.1.6: SubjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName;
                // uniformResourceIdentifier is [6] IMPLICIT IA5String.
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
                var names = reader.ReadSequence();
                var uriTag = new Asn1Tag(TagClass.ContextSpecific, 6);
                while (names.HasData)
                {
                    if (names.PeekTag() == uriTag)
                    {
                        var uri = names.ReadCharacterString(UniversalTagNumber.IA5String, uriTag);
                        if (found is not null)
                        {
                            return null;
                        }

                        found = uri;
                    }
                    else
                    {
                        names.ReadEncodedValue();
                    }
                }
            }
            catch (AsnContentException)
            {
                return null;
            }
        }

        return found is not null && TryParse(found, out var id, out _) ? id : null;
    }

    public bool Equals(SpiffeId? other) => other is not null && string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is SpiffeId other && Equals(other);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Value);

    public override string ToString() => Value;
}
