using System.Buffers;
using Proxy.Forwarding;
using Proxy.Http.Http2;
using Proxy.LoadBalancing;
using Proxy.Runtime;

namespace Proxy.Filters;

/// <summary>
/// Request mirroring (Envoy's request_mirror_policies): a sampled copy of a bodiless request goes to the route's
/// mirror cluster, fire-and-forget (<see cref="RequestMirror"/>), in that cluster's protocol and over TLS when it has
/// <c>tls</c>; the request itself never waits for it. The copy's head is built here: one allocation per mirrored
/// request (mirroring is sampled).
/// </summary>
public sealed class MirrorFilter : IHttpFilter
{
    public const string FilterName = "mirror";

    internal static readonly MirrorFilter Instance = new();

    public string Name => FilterName;

    /// <summary>The filter, or null when no route of the listener mirrors.</summary>
    public static IHttpFilter? Create(HttpRouting routing) =>
        routing.Actions.Any(static a => a.Mirror is not null) ? Instance : null;

    public FilterVerdict OnRequest(HttpExchange exchange)
    {
        if (exchange.Action is not { } action || exchange.HasBody || action.Mirror is not { } mirror ||
            action.MirrorCluster is not { } cluster || !mirror.ShouldMirror())
        {
            return FilterVerdict.Continue;
        }

        action.Counters.Mirrored.Increment();
        if (cluster.Pick(PickContext.None) is not { } endpoint)
        {
            return FilterVerdict.Continue;
        }

        // The copy is written in the mirror cluster's protocol, over TLS when it has tls, as its requests always are.
        if (endpoint.Http2Pool is { } pool)
        {
            var headers = new Http2HeaderList();
            exchange.WriteHttp2CopyHeaders(headers, ForwardedScheme.OfUpstream(cluster, endpoint));
            RequestMirror.SendHttp2(endpoint, pool, cluster, headers);
        }
        else
        {
            var head = new ArrayBufferWriter<byte>(exchange.HeadSizeHint + 512);
            exchange.WriteHttp1CopyHead(head);
            RequestMirror.SendHttp1(endpoint, cluster, head.WrittenMemory);
        }

        return FilterVerdict.Continue;
    }
}
