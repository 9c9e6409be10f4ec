using Proxy.Configuration;

namespace Proxy.Tls;

/// <summary>Builds TLS policies from configuration, loading files through the certificate store and collecting every failure.</summary>
public static class TlsPolicies
{
    /// <summary>The server policy of a listener, or null (with errors added) when a file is unusable.</summary>
    public static TlsServerPolicy? Server(TlsServerConfig config, CertificateStore? store, string owner, List<string> errors)
    {
        if (store is null)
        {
            errors.Add($"{owner}: tls needs a certificate store");
            return null;
        }

        var certificates = new List<(CertificateSource, IReadOnlyList<string>)>(config.Certificates.Count);
        foreach (var certificate in config.Certificates)
        {
            if (TryLoad(() => store.Certificate(certificate.Cert, certificate.Key), owner, errors) is { } source)
            {
                certificates.Add((source, certificate.Sni));
            }
        }

        var clientCa = config.ClientCa is { } ca ? TryLoad(() => store.Bundle(ca), owner, errors) : null;
        if (certificates.Count != config.Certificates.Count || (config.ClientCa is not null && clientCa is null))
        {
            return null;
        }

        // Secrets held in memory (from a management server): the xDS client holds a listener back until they arrived.
        if (config.CertificateSecret is { } certSecret)
        {
            if (store.SecretCertificate(certSecret) is not { } secret)
            {
                errors.Add($"{owner}: tls: the certificate secret '{certSecret}' has not been received");
                return null;
            }

            certificates.Add((secret, []));
        }

        if (config.ClientCaSecret is { } caSecret && (clientCa = store.SecretBundle(caSecret)) is null)
        {
            errors.Add($"{owner}: tls: the CA bundle secret '{caSecret}' has not been received");
            return null;
        }

        if (certificates.Count == 0)
        {
            errors.Add($"{owner}: tls has no certificate");
            return null;
        }

        return new TlsServerPolicy(certificates, clientCa, config.RequireClientCert, config.Alpn, config.Versions ?? TlsDefaults.Edge)
        {
            ClientSubjectAltNames = config.ClientSubjectAltNames,
            Tls12CipherSuites = config.CipherSuites,
        };
    }

    /// <summary>The client policy of a cluster, or null (with errors added) when a file is unusable.</summary>
    public static TlsClientPolicy? Client(TlsClientConfig config, ClusterProtocol protocol, CertificateStore? store, string owner, List<string> errors)
    {
        if (store is null)
        {
            errors.Add($"{owner}: tls needs a certificate store");
            return null;
        }

        var ca = config.Ca is { } path ? TryLoad(() => store.Bundle(path), owner, errors) : null;
        var client = config.Cert is { } cert && config.Key is { } key ? TryLoad(() => store.Certificate(cert, key), owner, errors) : null;
        if ((config.Ca is not null && ca is null) || (config.Cert is not null && config.Key is not null && client is null))
        {
            return null;
        }

        // Secrets held in memory (from a management server): the xDS client holds a cluster back until they arrived.
        if (config.CaSecret is { } caSecret && (ca = store.SecretBundle(caSecret)) is null)
        {
            errors.Add($"{owner}: tls: the CA bundle secret '{caSecret}' has not been received");
            return null;
        }

        if (config.CertificateSecret is { } certSecret && (client = store.SecretCertificate(certSecret)) is null)
        {
            errors.Add($"{owner}: tls: the certificate secret '{certSecret}' has not been received");
            return null;
        }

        // The upstream codec speaks one protocol: offer only that one unless ALPN is configured.
        IReadOnlyList<string> alpn = config.Alpn.Count > 0 ? config.Alpn : protocol == ClusterProtocol.Http2 ? ["h2"] : ["http/1.1"];
        return new TlsClientPolicy(config.Sni, ca, client, alpn, insecureSkipVerify: config.InsecureSkipVerify, protocols: config.Versions ?? TlsDefaults.Edge,
            subjectAltNames: config.SubjectAltNames, checkServerName: config.CheckServerName);
    }

    private static T? TryLoad<T>(Func<T> load, string owner, List<string> errors)
        where T : class
    {
        try
        {
            return load();
        }
        catch (UnusableFileException ex)
        {
            errors.Add($"{owner}: tls: {ex.Message}");
            return null;
        }
    }
}
