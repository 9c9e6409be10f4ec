using Proxy.Http.Http2;

namespace Proxy.Forwarding;

/// <summary>
/// The X-Forwarded-* fields of a request the proxy sends upstream over HTTP/2, whichever protocol its client spoke,
/// as <see cref="Http.Http1.Http1HeadWriter"/> writes them for HTTP/1.1: the client's X-Forwarded-For with the client's
/// address appended, X-Forwarded-Proto (<see cref="ForwardedScheme.OfDownstream"/>), and X-Forwarded-Host from the
/// request's host. The caller leaves the client's
/// own X-Forwarded-For, X-Forwarded-Proto and (when <c>host</c> is not empty) X-Forwarded-Host out of the list.
/// </summary>
internal static class Http2ForwardedFields
{
    /// <summary>Longest X-Forwarded-For made by joining (kept on the stack); a longer chain is dropped.</summary>
    private const int MaxForwardedFor = 2048;

    /// <summary>
    /// Adds the fields to <paramref name="target"/>. <paramref name="forwardedFor"/> is the client's X-Forwarded-For
    /// when <paramref name="hasForwardedFor"/>; <paramref name="host"/> is :authority or Host, none written when empty.
    /// </summary>
    public static void Add(Http2HeaderList target, bool hasForwardedFor, ReadOnlySpan<byte> forwardedFor, ReadOnlySpan<byte> clientAddress, ReadOnlySpan<byte> proto, ReadOnlySpan<byte> host)
    {
        if (hasForwardedFor)
        {
            int length = forwardedFor.Length + 2 + clientAddress.Length;
            if (length <= MaxForwardedFor)
            {
                Span<byte> joined = stackalloc byte[length];
                forwardedFor.CopyTo(joined);
                ", "u8.CopyTo(joined[forwardedFor.Length..]);
                clientAddress.CopyTo(joined[(forwardedFor.Length + 2)..]);
                target.Add("x-forwarded-for"u8, joined);
            }
        }
        else
        {
            target.Add("x-forwarded-for"u8, clientAddress);
        }

        target.Add("x-forwarded-proto"u8, proto);
        if (!host.IsEmpty)
        {
            target.Add("x-forwarded-host"u8, host);
        }
    }
}
