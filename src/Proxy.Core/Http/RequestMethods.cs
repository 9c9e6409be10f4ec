namespace Proxy.Http;

/// <summary>
/// Lookups over <see cref="RequestMethod"/>: recognising a method token, its wire bytes,
/// and its safety and idempotency (RFC 9110 sections 9.2.1 and 9.2.2), which retries rely on.
/// </summary>
public static class RequestMethods
{
    /// <summary>
    /// Maps a method token to its enum value. Method names are case-sensitive (RFC 9110 9.1),
    /// so "get" is an extension method, not GET.
    /// </summary>
    public static RequestMethod Parse(ReadOnlySpan<byte> token)
    {
        // Switch on length first so each candidate costs one short SequenceEqual.
        switch (token.Length)
        {
            case 3:
                if (token.SequenceEqual("GET"u8)) return RequestMethod.Get;
                if (token.SequenceEqual("PUT"u8)) return RequestMethod.Put;
                break;
            case 4:
                if (token.SequenceEqual("POST"u8)) return RequestMethod.Post;
                if (token.SequenceEqual("HEAD"u8)) return RequestMethod.Head;
                break;
            case 5:
                if (token.SequenceEqual("PATCH"u8)) return RequestMethod.Patch;
                if (token.SequenceEqual("TRACE"u8)) return RequestMethod.Trace;
                break;
            case 6:
                if (token.SequenceEqual("DELETE"u8)) return RequestMethod.Delete;
                break;
            case 7:
                if (token.SequenceEqual("OPTIONS"u8)) return RequestMethod.Options;
                if (token.SequenceEqual("CONNECT"u8)) return RequestMethod.Connect;
                break;
        }

        return RequestMethod.Other;
    }

    /// <summary>The wire name of a known method; empty for <see cref="RequestMethod.Other"/>.</summary>
    public static ReadOnlySpan<byte> GetName(RequestMethod method) => method switch
    {
        RequestMethod.Get => "GET"u8,
        RequestMethod.Head => "HEAD"u8,
        RequestMethod.Post => "POST"u8,
        RequestMethod.Put => "PUT"u8,
        RequestMethod.Delete => "DELETE"u8,
        RequestMethod.Connect => "CONNECT"u8,
        RequestMethod.Options => "OPTIONS"u8,
        RequestMethod.Trace => "TRACE"u8,
        RequestMethod.Patch => "PATCH"u8,
        _ => default,
    };

    /// <summary>Safe methods (RFC 9110 9.2.1) are read-only by definition.</summary>
    public static bool IsSafe(this RequestMethod method) =>
        method is RequestMethod.Get or RequestMethod.Head or RequestMethod.Options or RequestMethod.Trace;

    /// <summary>
    /// Idempotent methods (RFC 9110 9.2.2) may be retried automatically after a connection
    /// failure: the safe methods plus PUT and DELETE. Unknown methods are treated as not idempotent.
    /// </summary>
    public static bool IsIdempotent(this RequestMethod method) =>
        method.IsSafe() || method is RequestMethod.Put or RequestMethod.Delete;
}
