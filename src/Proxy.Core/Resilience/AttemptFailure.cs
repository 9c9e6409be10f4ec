namespace Proxy.Resilience;

/// <summary>How one attempt to send a request upstream ended, before its status is considered.</summary>
public enum AttemptFailure : byte
{
    /// <summary>A response head arrived; its status (and grpc-status) decide.</summary>
    None,

    /// <summary>The connection could not be made: the upstream saw nothing of the request.</summary>
    ConnectFailure,

    /// <summary>The connection was closed or reset after (part of) the request was sent, before a response head.</summary>
    Reset,

    /// <summary>The per-try timeout passed before a response head.</summary>
    PerTryTimeout,

    /// <summary>An HTTP/2 upstream refused the stream: it processed nothing of the request (RFC 9113 8.7).</summary>
    RefusedStream,
}
