using System.Buffers.Text;
using System.Text;

namespace Proxy.Observability;

/// <summary>
/// Istio's metadata exchange over HTTP, so the two sidecars of a request can label its metrics with each other's
/// workload: the client sidecar sends <c>x-envoy-peer-metadata</c> on the request, the server sidecar on the response,
/// each the base64 of a <c>google.protobuf.Struct</c> with Istio's keys (<c>WORKLOAD_NAME</c>, <c>NAMESPACE</c>,
/// <c>LABELS</c> with <c>app</c> and <c>version</c>), beside <c>x-envoy-peer-metadata-id</c>. Istio's sidecars send
/// and read the same fields, so a mixed mesh labels its traffic alike. The Struct is written and read here by hand
/// (protobuf wire format: field 1 of Struct is a map entry of key 1 and Value 2; Value holds string_value 3 or
/// struct_value 5), which is all the exchange needs.
/// </summary>
public static class PeerMetadata
{
    public const string HeaderName = "x-envoy-peer-metadata";
    public const string IdHeaderName = "x-envoy-peer-metadata-id";

    /// <summary>The longest header value read (a sidecar's own is about 200 bytes).</summary>
    public const int MaxEncodedLength = 4096;

    /// <summary>What a peer said about itself; any field may be null.</summary>
    public readonly record struct Fields(string? Workload, string? Namespace, string? App, string? Version);

    /// <summary>The header value describing <paramref name="local"/>.</summary>
    public static string Encode(WorkloadLabels local)
    {
        var labels = new List<byte>();
        WriteStringEntry(labels, "app", local.App);
        WriteStringEntry(labels, "version", local.Version);
        WriteStringEntry(labels, "service.istio.io/canonical-name", local.App);
        WriteStringEntry(labels, "service.istio.io/canonical-revision", local.Version);

        var root = new List<byte>();
        WriteStringEntry(root, "NAME", local.Workload);
        WriteStringEntry(root, "NAMESPACE", local.Namespace);
        WriteStringEntry(root, "WORKLOAD_NAME", local.Workload);
        WriteEntry(root, "LABELS", StructValueTag, labels);
        return Convert.ToBase64String(root.ToArray());
    }

    /// <summary>The id header's value, in Istio's form <c>sidecar~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local</c> (no IP here).</summary>
    public static string Id(WorkloadLabels local) =>
        $"sidecar~~{local.Workload}.{local.Namespace}~{local.Namespace}.svc.cluster.local";

    /// <summary>Reads a header value; false for anything that is not base64 of a well-formed Struct.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> base64, out Fields fields)
    {
        fields = default;
        if (base64.IsEmpty || base64.Length > MaxEncodedLength)
        {
            return false;
        }

        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(base64.Length)];
        if (Base64.DecodeFromUtf8(base64, bytes, out _, out var written) != System.Buffers.OperationStatus.Done)
        {
            return false;
        }

        string? workload = null, ns = null, app = null, version = null;
        bool ok = ReadStruct(bytes.AsSpan(0, written), depth: 0, (key, value, nested) =>
        {
            switch (key)
            {
                case "WORKLOAD_NAME": workload = value; break;
                case "NAMESPACE": ns = value; break;
                case "LABELS" when nested is { } labels:
                    app = labels.GetValueOrDefault("app");
                    version = labels.GetValueOrDefault("version");
                    break;
            }
        });
        fields = new Fields(workload, ns, app, version);
        return ok;
    }

    private const byte MapEntryTag = (1 << 3) | 2;   // Struct.fields, length-delimited
    private const byte KeyTag = (1 << 3) | 2;        // entry key
    private const byte ValueTag = (2 << 3) | 2;      // entry value
    internal const byte StringValueTag = (3 << 3) | 2;
    internal const byte StructValueTag = (5 << 3) | 2;

    private static void WriteStringEntry(List<byte> output, string key, string value) =>
        WriteEntry(output, key, StringValueTag, Encoding.UTF8.GetBytes(value));

    internal static void WriteEntry(List<byte> output, string key, byte valueKind, IReadOnlyCollection<byte> payload)
    {
        var keyBytes = Encoding.UTF8.GetBytes(key);
        var value = new List<byte> { valueKind };
        WriteVarint(value, payload.Count);
        value.AddRange(payload);

        var entry = new List<byte> { KeyTag };
        WriteVarint(entry, keyBytes.Length);
        entry.AddRange(keyBytes);
        entry.Add(ValueTag);
        WriteVarint(entry, value.Count);
        entry.AddRange(value);

        output.Add(MapEntryTag);
        WriteVarint(output, entry.Count);
        output.AddRange(entry);
    }

    internal static void WriteVarint(List<byte> output, int value)
    {
        var v = (uint)value;
        while (v >= 0x80)
        {
            output.Add((byte)(v | 0x80));
            v >>= 7;
        }

        output.Add((byte)v);
    }

    /// <summary>Walks a Struct, reporting each string value, and each nested Struct's string values as a map (one level).</summary>
    private static bool ReadStruct(ReadOnlySpan<byte> message, int depth, Action<string, string?, Dictionary<string, string>?> onField)
    {
        while (!message.IsEmpty)
        {
            if (!TryReadField(ref message, out var field, out var wireType, out var payload))
            {
                return false;
            }

            if (field != 1 || wireType != 2)
            {
                continue; // not Struct.fields: skipped
            }

            string? key = null, text = null;
            Dictionary<string, string>? nested = null;
            var entry = payload;
            while (!entry.IsEmpty)
            {
                if (!TryReadField(ref entry, out var entryField, out var entryWire, out var entryPayload))
                {
                    return false;
                }

                if (entryField == 1 && entryWire == 2)
                {
                    key = Encoding.UTF8.GetString(entryPayload);
                }
                else if (entryField == 2 && entryWire == 2 && !ReadValue(entryPayload, depth, ref text, ref nested))
                {
                    return false;
                }
            }

            if (key is not null)
            {
                onField(key, text, nested);
            }
        }

        return true;
    }

    private static bool ReadValue(ReadOnlySpan<byte> value, int depth, ref string? text, ref Dictionary<string, string>? nested)
    {
        while (!value.IsEmpty)
        {
            if (!TryReadField(ref value, out var field, out var wireType, out var payload))
            {
                return false;
            }

            if (field == 3 && wireType == 2)
            {
                text = Encoding.UTF8.GetString(payload);
            }
            else if (field == 5 && wireType == 2 && depth == 0)
            {
                var map = new Dictionary<string, string>(StringComparer.Ordinal);
                if (!ReadStruct(payload, depth + 1, (k, v, _) =>
                    {
                        if (v is not null)
                        {
                            map[k] = v;
                        }
                    }))
                {
                    return false;
                }

                nested = map;
            }
        }

        return true;
    }

    /// <summary>One field of a protobuf message: its number, wire type, and for length-delimited ones the payload.</summary>
    internal static bool TryReadField(ref ReadOnlySpan<byte> input, out int field, out int wireType, out ReadOnlySpan<byte> payload)
    {
        payload = default;
        field = 0;
        wireType = 0;
        if (!TryReadVarint(ref input, out var tag) || tag >> 3 == 0 || tag >> 3 > int.MaxValue)
        {
            return false;
        }

        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        switch (wireType)
        {
            case 0:
                return TryReadVarint(ref input, out _);
            case 1:
                return Skip(ref input, 8);
            case 2:
                if (!TryReadVarint(ref input, out var length) || length > (ulong)input.Length)
                {
                    return false;
                }

                payload = input[..(int)length];
                input = input[(int)length..];
                return true;
            case 5:
                return Skip(ref input, 4);
            default:
                return false; // groups (3, 4) and unknown types are not in a Struct
        }
    }

    private static bool Skip(ref ReadOnlySpan<byte> input, int count)
    {
        if (input.Length < count)
        {
            return false;
        }

        input = input[count..];
        return true;
    }

    private static bool TryReadVarint(ref ReadOnlySpan<byte> input, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (input.IsEmpty)
            {
                return false;
            }

            var b = input[0];
            input = input[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return true;
            }
        }

        return false;
    }
}
