using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Proxy.Transport;

namespace Proxy.Tls;

/// <summary>
/// Words why a TLS handshake with an upstream failed, for the log: the certificate check's verdict (untrusted root,
/// name mismatch, expired...) from the policy errors and the chain status, or the handshake's failure itself. Built
/// from flags and certificate fields, never from the runtime's message texts (resource keys in the published binary).
/// </summary>
public static class TlsFailureReason
{
    /// <summary>Why the server certificate of a handshake to <paramref name="targetHost"/> is refused.</summary>
    public static string Certificate(SslPolicyErrors errors, X509Certificate2? certificate, X509Chain? chain, string? targetHost, bool customCa)
    {
        if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return "certificate verification failed: the server sent no certificate";
        }

        var text = new StringBuilder("certificate verification failed: ");
        var parts = 0;
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            parts += ChainProblems(text, certificate, chain, customCa);
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            Separate(text, ref parts);
            text.Append($"the certificate is not valid for the name {targetHost} (it names {NamesOf(certificate)}); set the cluster's tls.sni to one of those names, or issue a certificate for {targetHost}");
        }

        if (parts == 0)
        {
            text.Append("the certificate was refused");
        }

        return text.ToString();
    }

    /// <summary>Why a mesh peer's certificate is refused though the chain is good: it names another SPIFFE identity.</summary>
    public static string WrongIdentity(SpiffeId expected, SpiffeId? presented) =>
        $"certificate verification failed: the server presented the identity {presented?.Value ?? "(none: no SPIFFE URI SAN)"}, but {expected.Value} was expected";

    /// <summary>Why a server's certificate is refused though the chain is good: none of its names is one the cluster accepts.</summary>
    public static string NoAcceptedName(X509Certificate2 certificate, IReadOnlyList<Configuration.SubjectAltNameMatchConfig> accepted)
    {
        var presented = SubjectAltNames.Read(certificate);
        var names = presented.Count > 0 ? string.Join(", ", presented.Select(static n => n.Name)) : "no subject alternative name";
        var wanted = string.Join(", ", accepted.Select(static m => $"{m.Kind.ToString().ToLowerInvariant()} {m.Value}"));
        return $"certificate verification failed: the server presented {names}, and the cluster accepts only a name matching {wanted}";
    }

    /// <summary>Why a handshake failed when the certificate check did not refuse anything (or never ran).</summary>
    public static string Handshake(Exception ex, TimeSpan timeout) => ex switch
    {
        OperationCanceledException => $"the TLS handshake did not finish within the connect timeout ({timeout.TotalMilliseconds:0} ms)",
        AuthenticationException =>
            "the TLS handshake failed: the server sent an alert or has no TLS version or cipher in common (does it want a client certificate the cluster does not send?)",
        _ when ConnectionErrors.IsConnectionLoss(ex) => "the server closed the connection during the TLS handshake: does it speak TLS on that port?",
        _ => "the TLS handshake failed",
    };

    private static int ChainProblems(StringBuilder text, X509Certificate2 certificate, X509Chain? chain, bool customCa)
    {
        var flags = X509ChainStatusFlags.NoError;
        if (chain is not null)
        {
            foreach (var status in chain.ChainStatus)
            {
                flags |= status.Status;
            }
        }

        var parts = 0;
        if ((flags & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0 || flags == X509ChainStatusFlags.NoError)
        {
            Separate(text, ref parts);
            text.Append(customCa
                ? $"the certificate (issued by {certificate.Issuer}) does not chain to a CA of the cluster's tls.ca bundle (untrusted root); add its CA to the bundle"
                : $"the certificate (issued by {certificate.Issuer}) does not chain to a CA of the system trust store (untrusted root); set the cluster's tls.ca to its CA");
        }

        if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            Separate(text, ref parts);
            text.Append(certificate.NotAfter < DateTime.Now
                ? $"the certificate expired on {certificate.NotAfter.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC"
                : $"the certificate is not valid before {certificate.NotBefore.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC (check the clocks)");
        }

        if ((flags & (X509ChainStatusFlags.NotValidForUsage | X509ChainStatusFlags.InvalidExtension)) != 0)
        {
            Separate(text, ref parts);
            text.Append("the certificate is not for TLS server authentication (its key usage or extended key usage)");
        }

        if ((flags & X509ChainStatusFlags.Revoked) != 0)
        {
            Separate(text, ref parts);
            text.Append("the certificate is revoked");
        }

        if (parts == 0)
        {
            Separate(text, ref parts);
            text.Append($"the certificate chain is invalid (chain status 0x{(int)flags:x})");
        }

        return parts;
    }

    private static string NamesOf(X509Certificate2 certificate)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                foreach (var dns in san.EnumerateDnsNames())
                {
                    names.Add(dns);
                }

                foreach (var ip in san.EnumerateIPAddresses())
                {
                    names.Add(ip.ToString());
                }
            }
        }

        return names.Count > 0 ? string.Join(", ", names) : $"no DNS or IP name; its subject is {certificate.Subject}";
    }

    private static void Separate(StringBuilder text, ref int parts)
    {
        if (parts++ > 0)
        {
            text.Append("; ");
        }
    }
}
