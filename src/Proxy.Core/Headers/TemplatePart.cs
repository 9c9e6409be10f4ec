namespace Proxy.Headers;

/// <summary>What one piece of a <see cref="FieldValueTemplate"/> writes.</summary>
internal enum TemplatePart
{
    /// <summary>Its bytes, as written in the file.</summary>
    Literal,

    /// <summary><c>%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%</c>: the client's IP address.</summary>
    ClientAddress,

    /// <summary><c>%UPSTREAM_REMOTE_ADDRESS%</c>: the endpoint that answered (responses only).</summary>
    UpstreamAddress,

    /// <summary><c>%REQ(name)%</c>: the first value of a request field; <c>x-request-id</c> includes one the proxy made.</summary>
    RequestField,

    /// <summary><c>%DOWNSTREAM_PEER_URI_SAN%</c>: the mesh peer's verified SPIFFE ID.</summary>
    PeerUri,

    /// <summary><c>%ROUTE_NAME%</c>: the name of the route the request took.</summary>
    RouteName,

    /// <summary><c>%PROTOCOL%</c>: HTTP/1.0, HTTP/1.1 or HTTP/2, as the client spoke.</summary>
    Protocol,
}
