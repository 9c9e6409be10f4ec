namespace Proxy.Routing;

/// <summary>Finds the query of a request target for <see cref="IRouteRequest.Query"/> implementations.</summary>
public static class RequestTargetQuery
{
    /// <summary>
    /// The query component of an origin-form target (RFC 3986 section 3.4): after the first '?', up to a '#' if a
    /// client sent one; empty when there is no '?'.
    /// </summary>
    public static ReadOnlySpan<byte> Of(ReadOnlySpan<byte> target)
    {
        int question = target.IndexOf((byte)'?');
        if (question < 0)
        {
            return default;
        }

        ReadOnlySpan<byte> query = target.Slice(question + 1);
        int hash = query.IndexOf((byte)'#');
        return hash < 0 ? query : query.Slice(0, hash);
    }
}
