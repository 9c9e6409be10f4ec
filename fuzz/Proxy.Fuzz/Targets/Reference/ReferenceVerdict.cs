using Proxy.Http.Http1;

namespace Proxy.Fuzz.Targets.Reference;

/// <summary>What a reading of one HTTP/1.1 message decided: whether its head is whole and acceptable, and its framing.</summary>
public enum ReferenceOutcome
{
    /// <summary>The head has not ended yet.</summary>
    NeedMore,

    /// <summary>The head is invalid: the message is rejected.</summary>
    Reject,

    /// <summary>The head is valid; <see cref="ReferenceVerdict.Framing"/> says how the body is delimited.</summary>
    Accept,
}

/// <summary>
/// The verdict on one message: outcome, head length, framing, declared length, and where the message ends in the
/// input (the offset the next message starts at, which is what request smuggling moves).
/// </summary>
public sealed record ReferenceVerdict(ReferenceOutcome Outcome, int HeadLength = 0, Http1BodyFraming Framing = Http1BodyFraming.None, long ContentLength = -1, string End = "")
{
    public static ReferenceVerdict NeedMore { get; } = new(ReferenceOutcome.NeedMore);

    public static ReferenceVerdict Reject(string why) => new(ReferenceOutcome.Reject, End: why);

    public override string ToString() => Outcome switch
    {
        ReferenceOutcome.Accept => $"accept head={HeadLength} framing={Framing} cl={ContentLength} end={End}",
        ReferenceOutcome.Reject => $"reject ({End})",
        _ => "need-more",
    };
}
