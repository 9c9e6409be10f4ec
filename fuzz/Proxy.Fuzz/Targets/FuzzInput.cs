using System.Buffers;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// Turns fuzz bytes into what parsers see on a socket: a control byte that picks the options of one run, and the
/// same data cut into segments at places the control byte picks, so that split input is fuzzed as well as whole.
/// </summary>
public static class FuzzInput
{
    /// <summary>Splits off the first byte as control bits (0 for empty input).</summary>
    public static byte TakeControl(ref ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return 0;
        }

        byte control = input[0];
        input = input[1..];
        return control;
    }

    /// <summary>The data as one segment.</summary>
    public static ReadOnlySequence<byte> Whole(ReadOnlySpan<byte> data) => new(data.ToArray());

    /// <summary>
    /// The data cut into segments whose lengths cycle through 1 + (seed &gt;&gt; k) % 7 for a few k, so a seed gives
    /// a repeatable mix of one-byte and longer pieces (empty segments included, as a PipeReader may show them).
    /// </summary>
    public static ReadOnlySequence<byte> Segmented(ReadOnlySpan<byte> data, byte seed)
    {
        if (data.IsEmpty)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment first = new(ReadOnlyMemory<byte>.Empty, 0);
        Segment last = first;
        int position = 0;
        int step = 0;
        while (position < data.Length)
        {
            int length = Math.Min(data.Length - position, 1 + ((seed >> (step % 5)) + step) % 7);
            last = last.Append(data.Slice(position, length).ToArray());
            position += length;
            step++;
        }

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
