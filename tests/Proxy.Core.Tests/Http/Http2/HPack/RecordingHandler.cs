using System.Text;
using Proxy.Http.Http2.HPack;

namespace Proxy.Tests.Http.Http2.HPack;

/// <summary>Collects decoded fields as strings, for assertions.</summary>
internal struct RecordingHandler : IHPackHeaderHandler
{
    public RecordingHandler()
    {
    }

    public List<(string Name, string Value, bool NeverIndexed)> Fields { get; } = [];

    public readonly void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed) =>
        Fields.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value), neverIndexed));

    public static (string, string, bool)[] Decode(HPackDecoder decoder, byte[] block, out HPackDecodeStatus status)
    {
        var handler = new RecordingHandler();
        status = decoder.Decode(block, ref handler);
        return [.. handler.Fields];
    }
}
