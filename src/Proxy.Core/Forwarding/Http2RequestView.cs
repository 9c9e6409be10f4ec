using Proxy.Http.Http2;
using Proxy.Routing;

namespace Proxy.Forwarding;

/// <summary>The route matcher's view of a decoded HTTP/2 request: :authority (or host), :path without the query, its query, :method.</summary>
public readonly struct Http2RequestView(Http2HeaderList headers) : IRouteRequest
{
    public ReadOnlySpan<byte> Host
    {
        get
        {
            ReadOnlySpan<byte> authority = headers.Authority;
            if (authority.IsEmpty && headers.TryGetValue("host"u8, out ReadOnlySpan<byte> host))
            {
                return host;
            }

            return authority;
        }
    }

    public ReadOnlySpan<byte> Path
    {
        get
        {
            ReadOnlySpan<byte> path = headers.Path;
            int end = path.IndexOfAny((byte)'?', (byte)'#');
            return end < 0 ? path : path[..end];
        }
    }

    public ReadOnlySpan<byte> Query => RequestTargetQuery.Of(headers.Path);

    public ReadOnlySpan<byte> Method => headers.Method;

    public bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value) => headers.TryGetValue(lowerName, out value);
}
