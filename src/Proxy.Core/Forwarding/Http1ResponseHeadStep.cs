using System.Buffers;
using System.IO.Pipelines;
using Proxy.Http.Http1;

namespace Proxy.Forwarding;

/// <summary>
/// One read's worth of an HTTP/1.1 upstream's response head, for every client protocol: parses what the read holds and
/// advances the upstream's pipe past what it used. The caller relays an interim response (RFC 9110 15.2: 1xx but 101,
/// in its client's protocol) and reads on, or stops at the final head or at the reason there is none.
/// </summary>
internal static class Http1ResponseHeadStep
{
    /// <summary>What one read of the response head came to.</summary>
    public enum Outcome
    {
        /// <summary>The head is not complete yet: read again.</summary>
        NeedMore,

        /// <summary>An interim (1xx, not 101) head was parsed: relay it, reset the head and read the next one.</summary>
        Interim,

        /// <summary>The read ended the wait: <c>head</c> says how (the final head parsed, or invalid, truncated, closed).</summary>
        Done,
    }

    /// <summary>
    /// Parses <paramref name="result"/> into <paramref name="response"/>. <paramref name="sawAnyByte"/> carries over the
    /// reads of one wait, so a connection that closes after part of a head (or after an interim response) is told
    /// apart from one that closed before any byte (a stale pooled connection, which may be retried).
    /// </summary>
    public static Outcome Parse(PipeReader input, Http1ResponseHead response, in ReadResult result, ref bool sawAnyByte, out HeadReadResult head)
    {
        var buffer = result.Buffer;
        var reader = new SequenceReader<byte>(buffer);
        head = default;
        if (response.TryParse(ref reader, out var error))
        {
            input.AdvanceTo(reader.Position);
            var status = response.StatusCode;
            if (status is >= 100 and < 200 && status != 101)
            {
                sawAnyByte = true;
                return Outcome.Interim;
            }

            head = HeadReadResult.Parsed;
            return Outcome.Done;
        }

        if (error != Http1ParseError.None)
        {
            input.AdvanceTo(buffer.Start);
            head = HeadReadResult.Invalid;
            return Outcome.Done;
        }

        sawAnyByte |= !buffer.IsEmpty;
        if (result.IsCompleted || result.IsCanceled)
        {
            // A cancelled read is the timeout's (its Disarm says so) or the client's going away (the caller checks).
            input.AdvanceTo(buffer.End);
            head = sawAnyByte ? HeadReadResult.Truncated : HeadReadResult.Closed;
            return Outcome.Done;
        }

        input.AdvanceTo(buffer.Start, buffer.End);
        return Outcome.NeedMore;
    }
}
