using System.Globalization;
using System.Text;

namespace Proxy.Routing;

/// <summary>
/// What a route answers by itself instead of forwarding (Envoy's direct_response and redirect): a status, an optional
/// content-type and body, or a redirect whose Location is built per request. Its bytes are made once when the route
/// is compiled, so answering allocates nothing; the exchange of each client protocol writes it
/// (<c>HttpExchange.AnswerAsync(LocalResponse)</c>).
/// </summary>
public sealed class LocalResponse
{
    private LocalResponse(int status, byte[] contentType, byte[] body, RedirectAction? redirect)
    {
        Status = status;
        ContentType = contentType;
        Body = body;
        Redirect = redirect;
        HasContentLength = status is not (204 or 304);
        ContentLength = Encoding.ASCII.GetBytes(body.Length.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>A fixed response: <paramref name="contentType"/> defaults to <c>text/plain</c> when there is a body.</summary>
    public static LocalResponse Direct(int status, ReadOnlySpan<byte> body, string? contentType = null) =>
        new(status, contentType is not null ? Encoding.ASCII.GetBytes(contentType) : body.IsEmpty ? [] : "text/plain"u8.ToArray(), body.ToArray(), null);

    /// <summary>A redirect, answered without a body (<c>content-length: 0</c>).</summary>
    public static LocalResponse ForRedirect(RedirectAction redirect) => new(redirect.Status, [], [], redirect);

    public int Status { get; }

    /// <summary>The content-type field's value; empty for none.</summary>
    public ReadOnlyMemory<byte> ContentType { get; }

    /// <summary>The body; empty for none. Never sent in answer to HEAD.</summary>
    public ReadOnlyMemory<byte> Body { get; }

    /// <summary>The redirect that makes the Location, or null for a direct response.</summary>
    public RedirectAction? Redirect { get; }

    /// <summary>False for 204 and 304, which carry no content-length (RFC 9110 section 8.6) and no body.</summary>
    public bool HasContentLength { get; }

    /// <summary>The body's length as ASCII digits, the content-length field's value.</summary>
    public ReadOnlyMemory<byte> ContentLength { get; }
}
