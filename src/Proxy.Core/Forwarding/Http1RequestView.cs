using Proxy.Http.Http1;
using Proxy.Routing;

namespace Proxy.Forwarding;

/// <summary>The route matcher's view of a parsed HTTP/1.1 request head: spans into its buffer, no copies.</summary>
public readonly struct Http1RequestView(Http1RequestHead head) : IRouteRequest
{
    public ReadOnlySpan<byte> Host => head.Host.IsEmpty ? head.Authority : head.Host;

    public ReadOnlySpan<byte> Path => head.Path;

    public ReadOnlySpan<byte> Query => RequestTargetQuery.Of(head.PathAndQuery);

    public ReadOnlySpan<byte> Method => head.MethodBytes;

    public bool TryGetHeader(ReadOnlySpan<byte> lowerName, out ReadOnlySpan<byte> value) => head.TryGetValue(lowerName, out value);
}
