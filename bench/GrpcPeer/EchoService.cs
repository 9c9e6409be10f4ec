using Grpc.Core;

namespace GrpcPeer;

/// <summary>Answers every <c>Ping</c> with the same reply, like the 1 KiB body the HTTP/1.1 app returns.</summary>
public sealed class EchoService(ReplyPayload reply) : EchoBase
{
    /// <inheritdoc />
    public override Task<byte[]> Ping(byte[] request, ServerCallContext context) => reply.Task;
}
