using System.Buffers;
using System.Text;

namespace Proxy.Tests.Http.Http1;

/// <summary>Builds single- and multi-segment inputs for parser tests.</summary>
internal static class TestInput
{
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    public static string Text(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static string Text(in ReadOnlySequence<byte> bytes) => Encoding.Latin1.GetString(bytes.ToArray());

    /// <summary>A sequence split into two segments at <paramref name="at"/> (either may be empty).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, int at) => Segments(data[..at], data[at..]);

    /// <summary>One segment per byte.</summary>
    public static ReadOnlySequence<byte> PerByte(byte[] data)
    {
        var parts = new byte[data.Length][];
        for (int i = 0; i < data.Length; i++) parts[i] = [data[i]];
        return Segments(parts);
    }

    public static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        if (parts.Length == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Length; i++) last = last.Append(parts[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] data, long runningIndex)
        {
            Memory = data;
            RunningIndex = runningIndex;
        }

        public Segment Append(byte[] data)
        {
            var next = new Segment(data, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
