using System.Buffers;
using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The chunked decoder (<see cref="ChunkedDecoder"/>): the body decoded from one segment, from many segments, and
/// fed piece by piece across calls must give the same data, trailers, verdict and end position (where the next
/// message would start: the boundary request smuggling moves). A completed body re-encoded with
/// <see cref="ChunkedEncoder"/> must decode back to the same data and trailers.
/// </summary>
public static class ChunkedTarget
{
    public static FuzzTarget Target { get; } = new("chunked", "chunked bodies: whole = split = piecewise; encoder round trip", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte control = FuzzInput.TakeControl(ref input);
        Http1Limits limits = FuzzHttp1Limits.Pick(control);

        using var decoder = new ChunkedDecoder(limits);
        Decoded whole = DecodeAll(decoder, FuzzInput.Whole(input));
        decoder.Reset();
        Decoded split = DecodeAll(decoder, FuzzInput.Segmented(input, control));
        FuzzFinding.Check(whole.Equals(split), $"whole and split input disagree: {whole} / {split}");

        decoder.Reset();
        Decoded piecewise = DecodePiecewise(decoder, input, 1 + (control >> 1));
        FuzzFinding.Check(whole.Equals(piecewise), $"whole and piecewise input disagree: {whole} / {piecewise}");

        if (whole.Status == ChunkedDecodeStatus.Completed)
        {
            FuzzFinding.Check(whole.Data.Length <= whole.Consumed, "more data than input");
            CheckReencoded(whole, limits);
        }
    }

    private static Decoded DecodeAll(ChunkedDecoder decoder, ReadOnlySequence<byte> body)
    {
        var reader = new SequenceReader<byte>(body);
        var data = new ArrayBufferWriter<byte>();
        ChunkedDecodeStatus status = Drain(decoder, ref reader, data);
        return Decoded.From(decoder, status, reader.Consumed, data);
    }

    /// <summary>Feeds <paramref name="step"/> bytes per call, keeping the unconsumed rest, as a body reader over a pipe does.</summary>
    private static Decoded DecodePiecewise(ChunkedDecoder decoder, ReadOnlySpan<byte> input, int step)
    {
        var data = new ArrayBufferWriter<byte>();
        long consumed = 0;
        ChunkedDecodeStatus status = ChunkedDecodeStatus.NeedMoreData;
        int available = 0;
        while (true)
        {
            available = Math.Min(input.Length, available + step);
            var reader = new SequenceReader<byte>(FuzzInput.Whole(input[(int)consumed..available]));
            status = Drain(decoder, ref reader, data);
            consumed += reader.Consumed;
            if (status != ChunkedDecodeStatus.NeedMoreData || available == input.Length)
            {
                return Decoded.From(decoder, status, consumed, data);
            }
        }
    }

    private static ChunkedDecodeStatus Drain(ChunkedDecoder decoder, ref SequenceReader<byte> reader, ArrayBufferWriter<byte> data)
    {
        while (true)
        {
            ChunkedDecodeStatus status = decoder.Decode(ref reader, out ReadOnlySequence<byte> piece);
            if (status != ChunkedDecodeStatus.Data)
            {
                return status;
            }

            FuzzFinding.Check(!piece.IsEmpty, "Data status with an empty piece");
            foreach (ReadOnlyMemory<byte> memory in piece)
            {
                data.Write(memory.Span);
            }
        }
    }

    private static void CheckReencoded(Decoded decoded, Http1Limits limits)
    {
        var encoded = new ArrayBufferWriter<byte>();
        byte[] data = decoded.Data;
        for (int start = 0; start < data.Length; start += 5)
        {
            ChunkedEncoder.WriteChunk(encoded, data.AsSpan(start, Math.Min(5, data.Length - start)));
        }

        ChunkedEncoder.WriteLastChunk(encoded, decoded.Trailers);

        // The proxy re-encodes within its limits; the trailer section it re-sends is the one it accepted.
        using var decoder = new ChunkedDecoder(limits);
        Decoded back = DecodeAll(decoder, new ReadOnlySequence<byte>(encoded.WrittenMemory));
        FuzzFinding.Check(back.Status == ChunkedDecodeStatus.Completed, $"the re-encoded body does not decode: {back}");
        FuzzFinding.Check(back.Consumed == encoded.WrittenCount, "the re-encoded body ends early");
        FuzzFinding.Check(back.Data.AsSpan().SequenceEqual(data) && back.Trailers.AsSpan().SequenceEqual(decoded.Trailers), "the re-encoded body decodes to other bytes");
    }

    private sealed record Decoded(ChunkedDecodeStatus Status, Http1ParseError Error, long Consumed, byte[] Data, byte[] Trailers, int TrailerCount)
    {
        public static Decoded From(ChunkedDecoder decoder, ChunkedDecodeStatus status, long consumed, ArrayBufferWriter<byte> data) =>
            new(status, decoder.Error, status == ChunkedDecodeStatus.Completed ? consumed : -1, data.WrittenSpan.ToArray(), decoder.TrailerBytes.ToArray(), decoder.Trailers.Length);

        public bool Equals(Decoded? other) =>
            other is not null && Status == other.Status && Error == other.Error && Consumed == other.Consumed
            && Data.AsSpan().SequenceEqual(other.Data) && Trailers.AsSpan().SequenceEqual(other.Trailers) && TrailerCount == other.TrailerCount;

        public override int GetHashCode() => HashCode.Combine(Status, Error, Consumed);

        public override string ToString() => $"{Status} {Error} consumed={Consumed} data={Data.Length} trailers={Trailers.Length}/{TrailerCount}";
    }
}
