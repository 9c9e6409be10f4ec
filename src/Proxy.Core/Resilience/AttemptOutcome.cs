namespace Proxy.Resilience;

/// <summary>
/// What one attempt produced: a failure before any response, or a response status with the gRPC
/// status when the response carried one (in its head, or trailers-only).
/// </summary>
public readonly record struct AttemptOutcome(AttemptFailure Failure, int Status, int GrpcStatus)
{
    /// <summary>No gRPC status was present.</summary>
    public const int NoGrpcStatus = -1;

    /// <summary>A response head with <paramref name="status"/> and an optional gRPC status.</summary>
    public static AttemptOutcome Response(int status, int grpcStatus = NoGrpcStatus) => new(AttemptFailure.None, status, grpcStatus);

    /// <summary>The connection could not be made.</summary>
    public static AttemptOutcome ConnectFailure => new(AttemptFailure.ConnectFailure, 0, NoGrpcStatus);

    /// <summary>The upstream reset or closed before a response head.</summary>
    public static AttemptOutcome Reset => new(AttemptFailure.Reset, 0, NoGrpcStatus);

    /// <summary>The per-try timeout fired before a response head.</summary>
    public static AttemptOutcome PerTryTimeout => new(AttemptFailure.PerTryTimeout, 0, NoGrpcStatus);

    /// <summary>An HTTP/2 upstream refused the stream (REFUSED_STREAM, or GOAWAY below its id).</summary>
    public static AttemptOutcome RefusedStream => new(AttemptFailure.RefusedStream, 0, NoGrpcStatus);

    /// <summary>True when the upstream may have received (part of) the request; a refused stream reached no application.</summary>
    public bool MayHaveReachedUpstream => Failure is not (AttemptFailure.ConnectFailure or AttemptFailure.RefusedStream);
}
