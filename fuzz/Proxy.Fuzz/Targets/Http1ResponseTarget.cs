using System.Buffers;
using System.Text;
using Proxy.Http;
using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// The HTTP/1.1 response head parser (<see cref="Http1ResponseHead"/>): whole, split and trickled input must agree,
/// and an accepted head written for the downstream by <see cref="Http1HeadWriter"/> must read back with the same
/// status and body framing for the request method the control byte picks.
/// </summary>
public static class Http1ResponseTarget
{
    public static FuzzTarget Target { get; } = new("http1-response", "HTTP/1.1 response heads: whole = split = trickled; forwarded head reads back the same", Run);

    private static readonly RequestMethod[] Methods = [RequestMethod.Get, RequestMethod.Head, RequestMethod.Connect, RequestMethod.Post];

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte control = FuzzInput.TakeControl(ref input);
        Http1Limits limits = FuzzHttp1Limits.Pick(control);
        RequestMethod method = Methods[(control >> 1) & 3];

        string whole = ParseAll(FuzzInput.Whole(input), limits, method, checkForwarded: true);
        string split = ParseAll(FuzzInput.Segmented(input, control), limits, method, checkForwarded: false);
        FuzzFinding.Check(whole == split, $"whole and split input disagree:\n{whole}\n{split}");

        string trickled = Trickle(input, 1 + (control >> 3), limits, method);
        string first = whole.Split('\n')[0];
        FuzzFinding.Check(first == trickled, $"whole and trickled input disagree:\n{first}\n{trickled}");
    }

    private static string ParseAll(ReadOnlySequence<byte> data, Http1Limits limits, RequestMethod method, bool checkForwarded)
    {
        var result = new StringBuilder();
        using var head = new Http1ResponseHead(limits);
        var reader = new SequenceReader<byte>(data);
        for (int message = 0; message < 8; message++)
        {
            long before = reader.Consumed;
            bool parsed = head.TryParse(ref reader, out Http1ParseError error);
            result.Append(Describe(head, parsed, error, reader.Consumed - before, method)).Append('\n');
            if (!parsed)
            {
                FuzzFinding.Check(reader.Consumed == before, "a head that was not accepted consumed input");
                break;
            }

            FuzzFinding.Check(head.StatusCode is >= 100 and <= 599, "status code out of range");
            FuzzFinding.Check(!(head.IsChunked && head.ContentLength >= 0), "accepted with both Transfer-Encoding: chunked and Content-Length");
            if (checkForwarded)
            {
                CheckForwarded(head, method);
            }
        }

        return result.ToString();
    }

    private static string Trickle(ReadOnlySpan<byte> input, int step, Http1Limits limits, RequestMethod method)
    {
        using var head = new Http1ResponseHead(limits);
        for (int length = Math.Min(step, input.Length); ; length = Math.Min(length + step, input.Length))
        {
            var reader = new SequenceReader<byte>(FuzzInput.Whole(input[..length]));
            bool parsed = head.TryParse(ref reader, out Http1ParseError error);
            if (parsed || error != Http1ParseError.None || length == input.Length)
            {
                return Describe(head, parsed, error, reader.Consumed, method);
            }
        }
    }

    private static string Describe(Http1ResponseHead head, bool parsed, Http1ParseError error, long consumed, RequestMethod method)
    {
        if (!parsed)
        {
            return error == Http1ParseError.None ? "need-more" : "reject " + error;
        }

        return $"accept {consumed} {head.Version} {head.StatusCode} {Http1RequestTarget.Latin1(head.ReasonPhrase)} framing={head.GetBodyFraming(method)} "
            + $"cl={head.ContentLength} fields={head.Fields.Length} keepalive={head.KeepAlive}";
    }

    private static void CheckForwarded(Http1ResponseHead head, RequestMethod method)
    {
        Http1BodyFraming framing = head.GetBodyFraming(method);
        var output = new ArrayBufferWriter<byte>();
        var options = new Http1ForwardOptions
        {
            Framing = framing is Http1BodyFraming.ContentLength or Http1BodyFraming.Chunked ? framing : Http1BodyFraming.None,
            ContentLength = head.ContentLength,
        };
        Http1HeadWriter.WriteResponse(output, head, options);

        using var back = new Http1ResponseHead(FuzzHttp1Limits.Roomy);
        var reader = new SequenceReader<byte>(new ReadOnlySequence<byte>(output.WrittenMemory));
        bool parsed = back.TryParse(ref reader, out Http1ParseError error);
        string written = Http1RequestTarget.Latin1(output.WrittenSpan);
        FuzzFinding.Check(parsed, $"the forwarded head does not parse ({error}):\n{written}");
        FuzzFinding.Check(reader.Consumed == output.WrittenCount, $"the forwarded head parses shorter than written:\n{written}");
        FuzzFinding.Check(back.StatusCode == head.StatusCode, $"the forwarded status differs:\n{written}");
        FuzzFinding.Check(back.ReasonPhrase.SequenceEqual(head.ReasonPhrase), $"the forwarded reason differs:\n{written}");
        FuzzFinding.Check(back.GetBodyFraming(method) == framing, $"the forwarded framing differs ({framing}):\n{written}");
        if (framing == Http1BodyFraming.ContentLength)
        {
            FuzzFinding.Check(back.ContentLength == head.ContentLength, $"the forwarded length differs:\n{written}");
        }
    }
}
