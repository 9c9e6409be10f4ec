using Envoy.Service.Discovery.V3;
using Google.Protobuf;
using Proxy.Xds.Translation;

namespace Proxy.Xds.Protocol;

/// <summary>Reads the resources of a state-of-the-world response, for the ADS stream and the SDS servers' streams alike.</summary>
internal static class DiscoveryResponses
{
    /// <summary>
    /// The resources of a response as <typeparamref name="T"/>, unwrapping <c>Resource</c> envelopes; a resource of
    /// another type, or bytes that do not decode, is an <see cref="XdsRejectedException"/> naming it.
    /// </summary>
    public static List<T> Unpack<T>(DiscoveryResponse response, MessageParser<T> parser)
        where T : IMessage<T>, new()
    {
        var resources = new List<T>(response.Resources.Count);
        for (var i = 0; i < response.Resources.Count; i++)
        {
            var any = response.Resources[i];
            var what = $"resource {i} of the {response.TypeUrl} response";
            if (any.TypeUrl == XdsTypeUrls.Resource)
            {
                any = XdsDecoder.Decode(Resource.Parser, any.Value, what).Resource_ ?? any;
            }

            if (any.TypeUrl != response.TypeUrl)
            {
                throw new XdsRejectedException($"{what} is a {any.TypeUrl}; a response holds resources of its own type only");
            }

            resources.Add(XdsDecoder.Decode(parser, any.Value, what));
        }

        return resources;
    }
}
