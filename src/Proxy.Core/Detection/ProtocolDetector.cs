using System.Buffers;
using System.IO.Pipelines;

namespace Proxy.Detection;

/// <summary>
/// Protocol detection as its own stage (the linkerd shape): read with a short timeout, classify
/// TLS ClientHello, then the HTTP/2 preface, then an HTTP/1 request line, else opaque. It favours
/// availability: anything unknown, and silence (server-first protocols such as SMTP or MySQL),
/// becomes opaque TCP instead of being dropped. Nothing is consumed: the caller reads it all again.
/// </summary>
public static class ProtocolDetector
{
    /// <summary>Most bytes looked at before giving up and calling the stream opaque.</summary>
    public const int MaxPeekBytes = ClientHelloParser.MaxRecordLength + 5;

    /// <summary>The longest HTTP/1 request line we wait for.</summary>
    public const int MaxRequestLine = 8192;

    private static ReadOnlySpan<byte> Http2Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>
    /// Classifies what has arrived so far. <see cref="DetectedProtocol.NeedMore"/> means the bytes
    /// are a prefix of something known (more may decide); the caller stops at its timeout.
    /// </summary>
    public static DetectionResult Classify(ReadOnlySequence<byte> input)
    {
        if (input.IsEmpty)
        {
            return DetectionResult.NeedMore;
        }

        // The first segment may be empty when the input is split; look past it.
        var reader = new SequenceReader<byte>(input);
        reader.TryPeek(out var first);
        if (first == 22)
        {
            return ClientHelloParser.Classify(input);
        }

        Span<byte> head = stackalloc byte[24];
        var count = (int)Math.Min(input.Length, head.Length);
        input.Slice(0, count).CopyTo(head);
        if (Http2Preface.StartsWith(head[..count]))
        {
            return count == Http2Preface.Length ? DetectionResult.Http2 : DetectionResult.NeedMore;
        }

        return Http1RequestLine.Classify(input);
    }

    /// <summary>
    /// Reads from <paramref name="input"/> until the bytes decide or <paramref name="timeout"/>
    /// passes, then puts everything back (nothing consumed). Never throws for timeout or close.
    /// </summary>
    public static async ValueTask<DetectionResult> DetectAsync(PipeReader input, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var examined = 0L;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return DetectionResult.Opaque(OpaqueReason.Timeout);
            }

            var buffer = result.Buffer;
            var detected = buffer.Length == examined && !result.IsCompleted ? DetectionResult.NeedMore : Classify(buffer);
            examined = buffer.Length;
            if (detected.Protocol == DetectedProtocol.NeedMore)
            {
                if (result.IsCompleted || result.IsCanceled)
                {
                    input.AdvanceTo(buffer.Start);
                    return DetectionResult.Opaque(OpaqueReason.Closed);
                }

                if (buffer.Length >= MaxPeekBytes)
                {
                    input.AdvanceTo(buffer.Start);
                    return DetectionResult.Opaque(OpaqueReason.Unrecognised);
                }

                // Examined everything, consumed nothing: the next read waits for new bytes.
                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            input.AdvanceTo(buffer.Start);
            return detected;
        }
    }
}
