using System.Buffers;
using Proxy.Http.Http2;
using Proxy.Http.Http2.HPack;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The HPACK decoder (<see cref="HPackDecoder"/>) over a run of header blocks with one dynamic table carried across
/// them, as on a connection. Input: a control byte, then blocks, each a length byte and that many bytes; a length
/// byte of 0xFF instead lowers or raises SETTINGS_HEADER_TABLE_SIZE to 64 times the next byte. Checks: the table
/// stays within its size; every decoded list validates without throwing; and the fields re-encoded with this
/// project's <see cref="HPackEncoder"/> decode back to the same fields through a second decoder.
/// </summary>
public static class HPackTarget
{
    public static FuzzTarget Target { get; } = new("hpack", "HPACK blocks with a dynamic table carried across them; encoder round trip", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte control = FuzzInput.TakeControl(ref input);
        int maxHeaderListSize = (control & 1) != 0 ? 256 : HPackDecoder.DefaultMaxHeaderListSize;
        var decoder = new HPackDecoder(HPackDecoder.DefaultMaxTableSize, maxHeaderListSize);
        var encoder = new HPackEncoder(useHuffman: (control & 2) != 0);
        var mirror = new HPackDecoder(HPackDecoder.DefaultMaxTableSize, 1 << 20);

        while (!input.IsEmpty)
        {
            int length = input[0];
            input = input[1..];
            if (length == 0xFF)
            {
                if (input.IsEmpty)
                {
                    return;
                }

                decoder.SetMaxTableSizeLimit(input[0] * 64);
                input = input[1..];
                continue;
            }

            ReadOnlySpan<byte> block = input[..Math.Min(length, input.Length)];
            input = input[block.Length..];

            var list = new Http2HeaderList();
            var fields = new List<Field>();
            var collector = new Collector(list, fields);
            HPackDecodeStatus status = decoder.Decode(block, ref collector);
            HPackDynamicTable table = decoder.DynamicTable;
            FuzzFinding.Check(table.Size <= table.MaxSize && table.Size >= 0, $"dynamic table size {table.Size} over its maximum {table.MaxSize}");
            if (status == HPackDecodeStatus.CompressionError)
            {
                return; // a connection error: the table can no longer be trusted and the connection ends
            }

            // Validation of the list against every block kind only answers yes or no.
            list.Validate(Http2HeaderBlockKind.Request);
            list.Validate(Http2HeaderBlockKind.Response);
            list.Validate(Http2HeaderBlockKind.Trailers);

            if (status == HPackDecodeStatus.Success)
            {
                RoundTrip(fields, encoder, mirror);
            }
        }
    }

    private static void RoundTrip(List<Field> fields, HPackEncoder encoder, HPackDecoder mirror)
    {
        var encoded = new ArrayBufferWriter<byte>();
        foreach (Field field in fields)
        {
            encoder.Encode(encoded, field.Name, field.Value, field.NeverIndexed ? HPackIndexing.NeverIndexed : HPackIndexing.Incremental);
        }

        var back = new List<Field>();
        var collector = new Collector(new Http2HeaderList(), back);
        HPackDecodeStatus status = mirror.Decode(encoded.WrittenSpan, ref collector);
        FuzzFinding.Check(status == HPackDecodeStatus.Success, $"re-encoded block does not decode: {status} {mirror.LastError}");
        FuzzFinding.Check(back.Count == fields.Count, "re-encoded block has another field count");
        for (int i = 0; i < fields.Count; i++)
        {
            FuzzFinding.Check(back[i].Name.AsSpan().SequenceEqual(fields[i].Name) && back[i].Value.AsSpan().SequenceEqual(fields[i].Value), $"field {i} differs after re-encoding");
            FuzzFinding.Check(back[i].NeverIndexed == fields[i].NeverIndexed, $"field {i} lost its never-indexed mark");
        }
    }

    private readonly record struct Field(byte[] Name, byte[] Value, bool NeverIndexed);

    private readonly struct Collector(Http2HeaderList list, List<Field> fields) : IHPackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
        {
            list.Add(name, value, neverIndexed);
            fields.Add(new Field(name.ToArray(), value.ToArray(), neverIndexed));
        }
    }
}
