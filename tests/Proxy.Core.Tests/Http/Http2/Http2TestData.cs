using System.Buffers;

namespace Proxy.Tests.Http.Http2;

/// <summary>Helpers shared by the HTTP/2 and HPACK tests: hex literals and multi-segment sequences.</summary>
internal static class Http2TestData
{
    /// <summary>Parses "8286 8441 ..." (spaces ignored) as in RFC 7541 Appendix C.</summary>
    public static byte[] Hex(string text) => Convert.FromHexString(text.Replace(" ", "").Replace("\n", ""));

    /// <summary>A sequence whose bytes are split into two segments at <paramref name="split"/>.</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, int split)
    {
        if (split <= 0 || split >= bytes.Length)
        {
            return new ReadOnlySequence<byte>(bytes);
        }

        var first = new Segment(bytes.AsMemory(0, split).ToArray(), 0);
        Segment last = first.Append(bytes.AsMemory(split).ToArray());
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
