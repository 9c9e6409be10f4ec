using Envoy.Config.Core.V3;
using Envoy.Service.Discovery.V3;
using Grpc.Core;

namespace Proxy.Xds.Protocol;

/// <summary>
/// Writes the requests of one SDS stream to a secret server (state of the world): the node on the first only
/// (xds_protocol, "Node"), the last accepted version and the newest nonce on each, and the names asked for.
/// </summary>
internal sealed class SecretRequestWriter(IClientStreamWriter<DiscoveryRequest> requests, Node node, XdsTypeState state)
{
    private bool _nodeSent;

    /// <summary>A subscription (or an ACK, once the state holds the accepted version and its nonce) for <paramref name="names"/>.</summary>
    public Task SendAsync(IReadOnlyList<string> names)
    {
        state.Names = names;
        state.Requested = true;
        var request = NewRequest(state.Nonce);
        request.ResourceNames.Add(names);
        return requests.WriteAsync(request);
    }

    /// <summary>A NACK: the last accepted version, the rejected response's nonce, and why (google.rpc.Status, INVALID_ARGUMENT).</summary>
    public Task NackAsync(DiscoveryResponse response, string error)
    {
        state.Nonce = response.Nonce;
        var request = NewRequest(response.Nonce);
        request.ResourceNames.Add(state.Names);
        request.ErrorDetail = new Google.Rpc.Status { Code = (int)StatusCode.InvalidArgument, Message = error };
        return requests.WriteAsync(request);
    }

    private DiscoveryRequest NewRequest(string nonce)
    {
        var request = new DiscoveryRequest { TypeUrl = state.TypeUrl, VersionInfo = state.Version, ResponseNonce = nonce };
        if (!_nodeSent)
        {
            request.Node = node;
            _nodeSent = true;
        }

        return request;
    }
}
