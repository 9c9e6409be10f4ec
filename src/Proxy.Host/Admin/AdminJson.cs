using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Proxy.Host.Admin;

/// <summary>
/// JSON for the admin pages, written by hand over <see cref="Utf8JsonWriter"/> (no reflection, so
/// native AOT stays clean), indented, with the same relaxed escaping as /config: the pages are
/// served as application/json, never embedded in HTML.
/// </summary>
public static class AdminJson
{
    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Runs <paramref name="write"/> over a fresh writer and returns the text, with a final newline.</summary>
    public static string Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }
}
