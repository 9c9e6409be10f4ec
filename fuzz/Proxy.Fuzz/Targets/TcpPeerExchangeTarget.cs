using System.Buffers;
using Proxy.Observability;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The TCP metadata exchange reader (<see cref="TcpPeerExchange.TryRead"/>), fed what a peer sends first on an
/// opaque connection, whole and cut in two (bytes arrive in pieces): no exception, the same verdict either way, never
/// more consumed than arrived, nothing consumed unless a frame was read, and any metadata found reads as a Struct.
/// </summary>
public static class TcpPeerExchangeTarget
{
    public static FuzzTarget Target { get; } = new("tcp-peer-exchange", "Istio TCP metadata exchange frames: no exception, same verdict in pieces, never past the input", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        var whole = TcpPeerExchange.TryRead(new ReadOnlySequence<byte>(bytes), out var consumed, out var metadata);
        FuzzFinding.Check(consumed >= 0 && consumed <= bytes.Length, $"consumed {consumed} of {bytes.Length} bytes");
        FuzzFinding.Check(whole == TcpPeerExchange.ReadResult.Read || consumed == 0, $"consumed {consumed} bytes without reading a frame");
        if (whole == TcpPeerExchange.ReadResult.Read && metadata.Length > 0)
        {
            PeerMetadata.TryDecode(metadata, out _); // must not throw on what a frame carried
        }

        var cut = bytes.Length / 2;
        var pieces = Segments.Of(bytes.AsMemory(0, cut), bytes.AsMemory(cut));
        var inPieces = TcpPeerExchange.TryRead(pieces, out var consumedInPieces, out _);
        FuzzFinding.Check(inPieces == whole && consumedInPieces == consumed, $"in two pieces: {inPieces} ({consumedInPieces}), whole: {whole} ({consumed})");
    }

    /// <summary>A sequence of two segments, as a pipe hands over bytes that arrived in two reads.</summary>
    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Of(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second)
        {
            var head = new Segments(first, 0);
            var tail = new Segments(second, first.Length);
            head.Next = tail;
            return new ReadOnlySequence<byte>(head, 0, tail, second.Length);
        }
    }
}
