using System.Buffers;
using Proxy.Fuzz.Targets.Reference;
using Proxy.Http;
using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// Differential HTTP/1.1: the proxy's parser and decoders against <see cref="SimpleHttp1Reader"/>, a separate simple
/// reading of RFC 9112. For a request or a response (control bit 0; bits 1-2 pick the request method a response
/// answers) both must agree whether the head is acceptable, how long it is, how its body is framed (none,
/// Content-Length, chunked, until close, tunnel), the declared length, and where the message ends: a framing
/// disagreement is the request smuggling class.
/// </summary>
public static class Http1DifferentialTarget
{
    public static FuzzTarget Target { get; } = new("http1-differential", "HTTP/1.1 verdict and framing against a simple RFC 9112 reading", Run);

    private static readonly RequestMethod[] Methods = [RequestMethod.Get, RequestMethod.Head, RequestMethod.Connect, RequestMethod.Post];

    public static void Run(ReadOnlySpan<byte> input)
    {
        byte control = FuzzInput.TakeControl(ref input);
        bool isRequest = (control & 1) == 0;
        RequestMethod method = Methods[(control >> 1) & 3];
        Http1Limits limits = Http1Limits.Default;

        ReferenceVerdict reference = SimpleHttp1Reader.Read(input, isRequest, method, limits);
        ReferenceVerdict proxy = isRequest ? ReadRequest(input, limits) : ReadResponse(input, method, limits);
        FuzzFinding.Check(Agree(proxy, reference), $"the proxy and RFC 9112 disagree on this {(isRequest ? "request" : $"response to {method}")}:\n  proxy: {proxy}\n  rfc:   {reference}");
    }

    private static bool Agree(ReferenceVerdict proxy, ReferenceVerdict reference)
    {
        if (proxy.Outcome != reference.Outcome)
        {
            // Rejecting before the head is complete (the proxy at a size limit, the simple reading at a bare CR) and
            // waiting for the rest are both right: only accepting a head the other side does not is a disagreement.
            return proxy.Outcome != ReferenceOutcome.Accept && reference.Outcome != ReferenceOutcome.Accept;
        }

        if (proxy.Outcome != ReferenceOutcome.Accept)
        {
            return true;
        }

        // An end one side has not reached yet is no disagreement: a body error found as bytes arrive, say.
        bool endsComparable = proxy.End != "incomplete" && reference.End != "incomplete";
        return proxy.HeadLength == reference.HeadLength && proxy.Framing == reference.Framing
            && (proxy.Framing != Http1BodyFraming.ContentLength || proxy.ContentLength == reference.ContentLength)
            && (!endsComparable || proxy.End == reference.End);
    }

    private static ReferenceVerdict ReadRequest(ReadOnlySpan<byte> input, Http1Limits limits)
    {
        using var head = new Http1RequestHead(limits);
        var reader = new SequenceReader<byte>(FuzzInput.Whole(input));
        if (!head.TryParse(ref reader, out Http1ParseError error))
        {
            return Verdict(error);
        }

        return Accepted(input, head.HeadLength, head.BodyFraming, head.ContentLength, limits);
    }

    private static ReferenceVerdict ReadResponse(ReadOnlySpan<byte> input, RequestMethod method, Http1Limits limits)
    {
        using var head = new Http1ResponseHead(limits);
        var reader = new SequenceReader<byte>(FuzzInput.Whole(input));
        if (!head.TryParse(ref reader, out Http1ParseError error))
        {
            return Verdict(error);
        }

        return Accepted(input, head.HeadLength, head.GetBodyFraming(method), head.ContentLength, limits);
    }

    private static ReferenceVerdict Verdict(Http1ParseError error) => error switch
    {
        Http1ParseError.None => ReferenceVerdict.NeedMore,
        Http1ParseError.StartLineTooLong or Http1ParseError.RequestTargetTooLong or Http1ParseError.HeadersTooLarge or Http1ParseError.TooManyHeaders => ReferenceVerdict.Reject("limit"),
        _ => ReferenceVerdict.Reject(error.ToString()),
    };

    /// <summary>The proxy's framing of an accepted head, and where its decoders say the body ends.</summary>
    private static ReferenceVerdict Accepted(ReadOnlySpan<byte> input, int headLength, Http1BodyFraming framing, long contentLength, Http1Limits limits)
    {
        string end;
        switch (framing)
        {
            case Http1BodyFraming.ContentLength:
                end = input.Length - headLength >= contentLength ? "at " + (headLength + contentLength) : "incomplete";
                break;
            case Http1BodyFraming.Chunked:
                using (var decoder = new ChunkedDecoder(limits))
                {
                    var reader = new SequenceReader<byte>(FuzzInput.Whole(input[headLength..]));
                    ChunkedDecodeStatus status;
                    while ((status = decoder.Decode(ref reader, out _)) == ChunkedDecodeStatus.Data)
                    {
                    }

                    end = status switch
                    {
                        ChunkedDecodeStatus.Completed => "at " + reader.Consumed,
                        ChunkedDecodeStatus.Invalid => "invalid",
                        _ => "incomplete",
                    };
                }

                break;
            case Http1BodyFraming.CloseDelimited:
                end = "at close";
                break;
            case Http1BodyFraming.Tunnel:
                end = "tunnel";
                break;
            default:
                end = "at head";
                break;
        }

        return new ReferenceVerdict(ReferenceOutcome.Accept, headLength, framing, framing == Http1BodyFraming.ContentLength ? contentLength : -1, end);
    }
}
