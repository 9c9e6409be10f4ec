using Envoy.Config.Core.V3;
using Envoy.Service.Discovery.V3;
using Grpc.Core;

namespace Proxy.Xds.Protocol;

/// <summary>
/// Writes the requests of one incremental ADS stream (xds_protocol, "Incremental xDS"): the node on the stream's
/// first request only; subscriptions as <c>resource_names_subscribe</c>/<c>_unsubscribe</c> diffs; ACKs and NACKs
/// as a <c>response_nonce</c> (with <c>error_detail</c> for a NACK); no version_info (delta requests have none).
/// Called from the stream's response loop only, so writes never overlap.
/// </summary>
internal sealed class DeltaStreamWriter(IClientStreamWriter<DeltaDiscoveryRequest> requests, Node node)
{
    private bool _nodeSent;

    /// <summary>
    /// The first request of a type on this stream: the whole subscription (<c>*</c> for a wildcard type) and the
    /// versions of the resources held, so the server sends only what changed meanwhile.
    /// </summary>
    public Task RestateAsync(DeltaTypeState state, IReadOnlyCollection<string> names, IDictionary<string, string> held)
    {
        state.Common.Nonce = "";
        state.Common.Requested = true;
        state.Subscribed.Clear();
        state.Subscribed.UnionWith(names);
        var request = NewRequest(state.TypeUrl);
        request.ResourceNamesSubscribe.Add(state.Wildcard ? [DeltaTypeState.WildcardName] : names);
        request.InitialResourceVersions.Add(held);
        return requests.WriteAsync(request);
    }

    /// <summary>A change of a named subscription: the names added and those dropped (a request without a nonce).</summary>
    public Task SubscribeAsync(DeltaTypeState state, IReadOnlyList<string> subscribe, IReadOnlyList<string> unsubscribe)
    {
        state.Common.Requested = true;
        state.Subscribed.UnionWith(subscribe);
        state.Subscribed.ExceptWith(unsubscribe);
        var request = NewRequest(state.TypeUrl);
        request.ResourceNamesSubscribe.Add(subscribe);
        request.ResourceNamesUnsubscribe.Add(unsubscribe);
        return requests.WriteAsync(request);
    }

    /// <summary>An ACK: the accepted response's nonce.</summary>
    public Task AckAsync(string typeUrl, string nonce)
    {
        var request = NewRequest(typeUrl);
        request.ResponseNonce = nonce;
        return requests.WriteAsync(request);
    }

    /// <summary>A NACK: the rejected response's nonce and why (google.rpc.Status, INVALID_ARGUMENT); what was held keeps serving.</summary>
    public Task NackAsync(string typeUrl, string nonce, string error)
    {
        var request = NewRequest(typeUrl);
        request.ResponseNonce = nonce;
        request.ErrorDetail = new Google.Rpc.Status { Code = (int)StatusCode.InvalidArgument, Message = error };
        return requests.WriteAsync(request);
    }

    private DeltaDiscoveryRequest NewRequest(string typeUrl)
    {
        var request = new DeltaDiscoveryRequest { TypeUrl = typeUrl };
        if (!_nodeSent)
        {
            request.Node = node;
            _nodeSent = true;
        }

        return request;
    }
}
