using System.Globalization;
using System.Text.Json;
using Envoy.Extensions.TransportSockets.Tls.V3;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace Proxy.Xds.Admin;

/// <summary>
/// The secrets part of /config_dump in Envoy's layout (<c>envoy.admin.v3.SecretsConfigDump</c>, which
/// <c>istioctl proxy-config secret</c> reads): the SDS secrets accepted over ADS and from the SDS servers of
/// <c>xds.secret_servers</c> as <c>dynamic_active_secrets</c> (name, version_info, last_updated, secret), private keys
/// redacted.
/// </summary>
public static class XdsSecretsDumpWriter
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default
        .WithFormatDefaultValues(false)
        .WithPreserveProtoFieldNames(true) // snake_case field names, as Envoy's dump writes them
        .WithTypeRegistry(TypeRegistry.FromMessages(Secret.Descriptor)));

    /// <summary>Writes one item of the <c>configs</c> array.</summary>
    public static void Write(Utf8JsonWriter w, XdsSecretStore secrets)
    {
        w.WriteStartObject();
        w.WriteString("@type", "type.googleapis.com/envoy.admin.v3.SecretsConfigDump");
        w.WriteStartArray("dynamic_active_secrets");
        WriteSecrets(w, secrets.Secrets);
        foreach (var (_, held) in secrets.Servers.OrderBy(static s => s.Key, StringComparer.Ordinal))
        {
            WriteSecrets(w, held);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteSecrets(Utf8JsonWriter w, IReadOnlyDictionary<string, AcceptedSecret> secrets)
    {
        foreach (var (name, secret) in secrets.OrderBy(static s => s.Key, StringComparer.Ordinal))
        {
            w.WriteStartObject();
            w.WriteString("name", name);
            w.WriteString("version_info", secret.Version);
            w.WriteString("last_updated", secret.LastUpdated.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WritePropertyName("secret");
            w.WriteRawValue(Formatter.Format(Any.Pack(SecretRedaction.Redact(secret.Resource))));
            w.WriteEndObject();
        }
    }
}
