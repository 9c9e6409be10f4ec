using System.Net.Security;

namespace Proxy.Xds.Translation;

/// <summary>
/// <c>tls_params.cipher_suites</c> as the runtime's suites: Envoy names them as BoringSSL does (OpenSSL's names, and
/// <c>[A|B]</c> for a group of equal preference), and they bound TLS 1.2 only (TLS 1.3's suites are all AEAD and not
/// configurable in Envoy). A name the proxy does not know is refused: dropping it could leave no suite at all.
/// </summary>
internal static class CipherSuiteNames
{
    private static readonly Dictionary<string, TlsCipherSuite> Known = new(StringComparer.Ordinal)
    {
        ["ECDHE-ECDSA-AES128-GCM-SHA256"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        ["ECDHE-RSA-AES128-GCM-SHA256"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ["ECDHE-ECDSA-AES256-GCM-SHA384"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        ["ECDHE-RSA-AES256-GCM-SHA384"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ["ECDHE-ECDSA-CHACHA20-POLY1305"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        ["ECDHE-RSA-CHACHA20-POLY1305"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ["ECDHE-ECDSA-AES128-SHA"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        ["ECDHE-RSA-AES128-SHA"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        ["ECDHE-ECDSA-AES256-SHA"] = TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        ["ECDHE-RSA-AES256-SHA"] = TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        ["AES128-GCM-SHA256"] = TlsCipherSuite.TLS_RSA_WITH_AES_128_GCM_SHA256,
        ["AES256-GCM-SHA384"] = TlsCipherSuite.TLS_RSA_WITH_AES_256_GCM_SHA384,
        ["AES128-SHA"] = TlsCipherSuite.TLS_RSA_WITH_AES_128_CBC_SHA,
        ["AES256-SHA"] = TlsCipherSuite.TLS_RSA_WITH_AES_256_CBC_SHA,
    };

    /// <summary>The suites <paramref name="names"/> list, in order, each once.</summary>
    public static IReadOnlyList<TlsCipherSuite> Parse(IEnumerable<string> names, string owner, string field)
    {
        var suites = new List<TlsCipherSuite>();
        foreach (var entry in names)
        {
            var group = entry.Length > 2 && entry[0] == '[' && entry[^1] == ']' ? entry[1..^1].Split('|') : [entry];
            foreach (var name in group)
            {
                if (!Known.TryGetValue(name, out var suite))
                {
                    throw new XdsRejectedException($"{owner}: {field}: '{name}' is not a TLS 1.2 cipher suite the proxy knows; use {string.Join(", ", Known.Keys)}");
                }

                if (!suites.Contains(suite))
                {
                    suites.Add(suite);
                }
            }
        }

        return new Proxy.Configuration.ConfigList<TlsCipherSuite>([.. suites]); // compared by content, as the translation's other lists
    }
}
