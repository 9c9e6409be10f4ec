using System.Buffers;
using System.Text;
using Proxy.Http;
using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The HTTP/1.1 request head parser (<see cref="Http1RequestHead"/>). Every input is parsed three ways, which must
/// agree: whole, cut into segments, and trickled in as a PipeReader would present it (the same unconsumed bytes
/// again plus more). Pipelined heads are parsed in turn with one reused head object. An accepted head is written
/// for the upstream by <see cref="Http1HeadWriter"/> and read back: it must parse, with the same method, target,
/// authority and body framing.
/// </summary>
public static class Http1RequestTarget
{
    public static FuzzTarget Target { get; } = new("http1-request", "HTTP/1.1 request heads: whole = split = trickled; forwarded head reads back the same", Run);

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte control = FuzzInput.TakeControl(ref input);
        Http1Limits limits = FuzzHttp1Limits.Pick(control);

        string whole = ParseAll(FuzzInput.Whole(input), limits, checkForwarded: true);
        string split = ParseAll(FuzzInput.Segmented(input, control), limits, checkForwarded: false);
        FuzzFinding.Check(whole == split, $"whole and split input disagree:\n{whole}\n{split}");

        string trickled = Trickle(input, 1 + (control >> 1), limits);
        string first = whole.Split('\n')[0];
        FuzzFinding.Check(first == trickled, $"whole and trickled input disagree:\n{first}\n{trickled}");
    }

    /// <summary>Parses heads one after another with one reused head object, as a keep-alive connection does.</summary>
    private static string ParseAll(ReadOnlySequence<byte> data, Http1Limits limits, bool checkForwarded)
    {
        var result = new StringBuilder();
        using var head = new Http1RequestHead(limits);
        var reader = new SequenceReader<byte>(data);
        for (int message = 0; message < 8; message++)
        {
            long before = reader.Consumed;
            bool parsed = head.TryParse(ref reader, out Http1ParseError error);
            result.Append(Describe(head, parsed, error, reader.Consumed - before)).Append('\n');
            if (!parsed)
            {
                FuzzFinding.Check(reader.Consumed == before, "a head that was not accepted consumed input");
                break;
            }

            CheckAccepted(head);
            if (checkForwarded)
            {
                CheckForwarded(head);
            }
        }

        return result.ToString();
    }

    /// <summary>Presents growing prefixes to one head object until it decides, the way the connection's read loop does.</summary>
    private static string Trickle(ReadOnlySpan<byte> input, int step, Http1Limits limits)
    {
        using var head = new Http1RequestHead(limits);
        for (int length = Math.Min(step, input.Length); ; length = Math.Min(length + step, input.Length))
        {
            var reader = new SequenceReader<byte>(FuzzInput.Whole(input[..length]));
            bool parsed = head.TryParse(ref reader, out Http1ParseError error);
            if (parsed || error != Http1ParseError.None || length == input.Length)
            {
                return Describe(head, parsed, error, reader.Consumed);
            }
        }
    }

    internal static string Describe(Http1RequestHead head, bool parsed, Http1ParseError error, long consumed)
    {
        if (!parsed)
        {
            return error == Http1ParseError.None ? "need-more" : "reject " + error;
        }

        return $"accept {consumed} {Latin1(head.MethodBytes)} {head.Method} {Latin1(head.Target)} {head.TargetForm} {head.Version} "
            + $"authority={Latin1(head.Authority)} path={Latin1(head.PathAndQuery)} framing={head.BodyFraming} cl={head.ContentLength} "
            + $"fields={head.Fields.Length} keepalive={head.KeepAlive} upgrade={head.IsUpgradeRequest} expect={head.ExpectContinue}";
    }

    private static void CheckAccepted(Http1RequestHead head)
    {
        // RFC 9112 6.3: a message with both length fields is rejected, never framed by one of them.
        FuzzFinding.Check(!(head.IsChunked && head.ContentLength >= 0), "accepted with both Transfer-Encoding: chunked and Content-Length");
        FuzzFinding.Check(head.HeadLength == head.HeadBytes.Length, "head length and head bytes differ");
        for (int i = 0; i < head.Fields.Length; i++)
        {
            // Every located field must point inside the head and read back as a valid name and value.
            ReadOnlySpan<byte> line = head.GetLine(i);
            FuzzFinding.Check(line.EndsWith("\r\n"u8) && line.StartsWith(head.GetName(i)), "a field line is not where the field is");
        }
    }

    /// <summary>The head the proxy sends upstream must parse back to the same request (smuggling through the proxy's own writer).</summary>
    private static void CheckForwarded(Http1RequestHead head)
    {
        var output = new ArrayBufferWriter<byte>();
        var options = new Http1ForwardOptions
        {
            Framing = head.BodyFraming,
            ContentLength = head.ContentLength,
            ForwardUpgrade = head.IsUpgradeRequest,
            Connection = head.IsUpgradeRequest ? "upgrade"u8 : default,
            ForwardedFor = "192.0.2.1"u8,
            ForwardedProto = "http"u8,
        };
        Http1HeadWriter.WriteRequest(output, head, options);

        using var back = new Http1RequestHead(FuzzHttp1Limits.Roomy);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
        bool parsed = back.TryParse(ref reader, out Http1ParseError error);

        // An HTTP/1.0 request may come without Host; it is forwarded as HTTP/1.1, where Host is required.
        if (!parsed && error == Http1ParseError.MissingHost && head.Version == Http1Version.Http10)
        {
            return;
        }

        string written = Latin1(output.WrittenSpan);
        FuzzFinding.Check(parsed, $"the forwarded head does not parse ({error}):\n{written}");
        FuzzFinding.Check(reader.Consumed == output.WrittenCount, $"the forwarded head parses shorter than written:\n{written}");
        FuzzFinding.Check(back.MethodBytes.SequenceEqual(head.MethodBytes), $"the forwarded method differs:\n{written}");
        FuzzFinding.Check(back.BodyFraming == head.BodyFraming && back.ContentLength == head.ContentLength, $"the forwarded framing differs:\n{written}");
        FuzzFinding.Check(back.Authority.SequenceEqual(head.Authority), $"the forwarded authority differs:\n{written}");
        FuzzFinding.Check(back.IsUpgradeRequest == head.IsUpgradeRequest, $"the forwarded upgrade differs:\n{written}");
        if (head.TargetForm == RequestTargetForm.Absolute)
        {
            ReadOnlySpan<byte> path = head.PathAndQuery;
            FuzzFinding.Check(back.PathAndQuery.SequenceEqual(path.IsEmpty || path[0] != (byte)'/' ? [(byte)'/', .. path] : path), $"the forwarded path differs:\n{written}");
        }
        else
        {
            FuzzFinding.Check(back.Target.SequenceEqual(head.Target), $"the forwarded target differs:\n{written}");
        }
    }

    internal static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
