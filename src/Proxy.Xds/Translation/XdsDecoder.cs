using Google.Protobuf;

namespace Proxy.Xds.Translation;

/// <summary>
/// Decodes the protobuf bytes a management server sent: a resource of a response, or a <c>typed_config</c> inside one.
/// Bytes that do not decode are a rejection (the NACK says which resource, and that it is malformed), never an
/// exception that would end the ADS stream: ended, the stream would be reopened, the same bytes resent, and the
/// server's operator would never see why.
/// </summary>
public static class XdsDecoder
{
    /// <param name="what">What the bytes are, as the rejection names it: "resource 2 of the ... response", "cluster 'a': transport_socket".</param>
    public static T Decode<T>(MessageParser<T> parser, ByteString bytes, string what)
        where T : IMessage<T>, new()
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new XdsRejectedException($"{what} cannot be decoded as {Describe(parser)} ({ex.Message.TrimEnd('.')}); check that the server sends Envoy v3 resources");
        }
        catch (InvalidOperationException)
        {
            // Google.Protobuf 3.36 throws this, not InvalidProtocolBufferException, when a length-delimited field inside
            // a wrapper type (UInt32Value and the like, e.g. a circuit breaker threshold) claims more bytes than follow.
            // The xds-translation fuzz target found it.
            throw new XdsRejectedException($"{what} cannot be decoded as {Describe(parser)} (a field inside it is cut short); check that the server sends Envoy v3 resources");
        }
    }

    private static string Describe<T>(MessageParser<T> parser)
        where T : IMessage<T>, new() => new T().Descriptor.FullName;
}
