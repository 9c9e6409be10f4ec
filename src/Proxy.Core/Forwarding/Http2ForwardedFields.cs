using Proxy.Http;
using Proxy.Http.Http1;
using Proxy.Http.Http2;

namespace Proxy.Forwarding;

/// <summary>
/// The X-Forwarded-* fields of a request the proxy sends upstream over HTTP/2, whichever protocol its client spoke,
/// as <see cref="Http1HeadWriter"/> writes them for HTTP/1.1: X-Forwarded-For with all of the client's X-Forwarded-For
/// values in order and then the client's address, X-Forwarded-Proto (<see cref="ForwardedScheme.OfDownstream"/>), and
/// X-Forwarded-Host from the request's host. The caller leaves the client's own X-Forwarded-For, X-Forwarded-Proto
/// and (when <c>host</c> is not empty) X-Forwarded-Host out of the list.
/// </summary>
internal static class Http2ForwardedFields
{
    /// <summary>Adds the fields for an HTTP/1.1 client's request; <paramref name="host"/> is its Host, none written when empty.</summary>
    public static void Add(Http2HeaderList target, Http1Head request, ReadOnlySpan<byte> clientAddress, ReadOnlySpan<byte> proto, ReadOnlySpan<byte> host)
    {
        // The value grows in the list's own buffer, so a chain of any length the head limits let in crosses whole.
        target.Add("x-forwarded-for"u8, default);
        ReadOnlySpan<Http1HeaderField> fields = request.Fields;
        for (int i = 0; i < fields.Length; i++)
        {
            // As Http1HeadWriter: a field named by Connection is hop-by-hop and dropped, an empty one adds no hop.
            if (fields[i].Kind == KnownHeader.XForwardedFor && !fields[i].IsHopByHop && fields[i].ValueLength != 0)
            {
                target.AppendToLastValue(request.GetValue(i));
                target.AppendToLastValue(", "u8);
            }
        }

        target.AppendToLastValue(clientAddress);
        AddProtoAndHost(target, proto, host);
    }

    /// <summary>
    /// Adds the fields for an HTTP/2 client's request; <paramref name="host"/> is its :authority or Host, none written
    /// when empty. <paramref name="target"/> may be <paramref name="request"/> itself (fields appended to the received list).
    /// </summary>
    public static void Add(Http2HeaderList target, Http2HeaderList request, ReadOnlySpan<byte> clientAddress, ReadOnlySpan<byte> proto, ReadOnlySpan<byte> host)
    {
        int count = request.Count; // the client's fields, before any added here
        target.Add("x-forwarded-for"u8, default);
        for (int i = 0; i < count; i++)
        {
            if (IsClientHop(request, i))
            {
                target.AppendToLastValue(request.GetValue(i));
                target.AppendToLastValue(", "u8);
            }
        }

        target.AppendToLastValue(clientAddress);
        AddProtoAndHost(target, proto, host);
    }

    /// <summary>
    /// True when field <paramref name="index"/> of an HTTP/2 client's request is an X-Forwarded-For value to keep in
    /// front of the client's address: every such field counts, in order (RFC 9110 5.3), except empty ones.
    /// </summary>
    public static bool IsClientHop(Http2HeaderList request, int index) =>
        request.GetName(index).SequenceEqual("x-forwarded-for"u8) && !request.GetValue(index).IsEmpty;

    private static void AddProtoAndHost(Http2HeaderList target, ReadOnlySpan<byte> proto, ReadOnlySpan<byte> host)
    {
        target.Add("x-forwarded-proto"u8, proto);
        if (!host.IsEmpty)
        {
            target.Add("x-forwarded-host"u8, host);
        }
    }
}
