namespace GrpcPeer;

/// <summary>The fixed reply message, built once (a completed task, so a call allocates nothing for it).</summary>
public sealed class ReplyPayload(int size)
{
    /// <summary>The reply bytes as a completed task.</summary>
    public Task<byte[]> Task { get; } = System.Threading.Tasks.Task.FromResult(Enumerable.Range(0, size).Select(i => (byte)('a' + (i % 26))).ToArray());
}
