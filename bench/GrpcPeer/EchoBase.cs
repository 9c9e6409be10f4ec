using Grpc.Core;

namespace GrpcPeer;

/// <summary>What protoc would generate: the service base that names its binder.</summary>
[BindServiceMethod(typeof(EchoMethods), nameof(EchoMethods.BindService))]
public abstract class EchoBase
{
    /// <summary>Answers one <c>Ping</c>.</summary>
    public abstract Task<byte[]> Ping(byte[] request, ServerCallContext context);
}
