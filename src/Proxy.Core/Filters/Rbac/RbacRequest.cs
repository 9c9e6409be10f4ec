using Proxy.Forwarding;

namespace Proxy.Filters.Rbac;

/// <summary>
/// What one RBAC decision reads: the connection's facts, and for an HTTP request the request itself and its path
/// normalized as the app will read it (<see cref="Inbound.AuthorizationPath"/>). A connection-level decision (the
/// network filter) has no request. Lives on the stack: a decision allocates nothing.
/// </summary>
public readonly ref struct RbacRequest
{
    public RbacRequest(RbacConnection? connection, HttpExchange? exchange, ReadOnlySpan<byte> normalizedPath)
    {
        Connection = connection;
        Exchange = exchange;
        NormalizedPath = normalizedPath;
    }

    /// <summary>The connection's facts; null when the listener gathered none (nothing then matches a connection rule).</summary>
    public RbacConnection? Connection { get; }

    /// <summary>The HTTP request; null for a connection-level decision.</summary>
    public HttpExchange? Exchange { get; }

    /// <summary>The normalized path without query (Envoy's url_path reads it so); empty when the filter reads no path.</summary>
    public ReadOnlySpan<byte> NormalizedPath { get; }
}
