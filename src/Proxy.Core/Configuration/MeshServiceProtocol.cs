namespace Proxy.Configuration;

/// <summary>What an outbound mesh service speaks, as declared (or found by looking at the app's first bytes).</summary>
public enum MeshServiceProtocol
{
    /// <summary>Detected per connection: an HTTP/1.1 request line or the HTTP/2 preface within detect_timeout is HTTP, anything else TCP.</summary>
    Auto,

    /// <summary>HTTP/1.1 or HTTP/2 from the app, served per request (routes, retries, per-request balancing).</summary>
    Http,

    /// <summary>gRPC: HTTP/2 from the app, served per request.</summary>
    Grpc,

    /// <summary>Opaque bytes: balanced per connection, never looked at.</summary>
    Tcp,
}
