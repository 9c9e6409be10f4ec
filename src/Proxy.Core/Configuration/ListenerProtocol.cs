namespace Proxy.Configuration;

/// <summary>What a listener speaks to its downstream.</summary>
public enum ListenerProtocol
{
    /// <summary>Opaque bytes forwarded to one cluster.</summary>
    Tcp,

    /// <summary>HTTP/1.1 and HTTP/2 (prior knowledge or ALPN), routed per request.</summary>
    Http,

    /// <summary>Detected per connection: HTTP when it looks like HTTP, otherwise opaque TCP.</summary>
    Auto,
}
