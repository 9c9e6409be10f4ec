using System.IO.Pipelines;

namespace Proxy.Transport;

/// <summary>A <see cref="SocketPipe"/>'s input: the receive pipe's reader, whose completion also shuts the socket's receive side down.</summary>
internal sealed class SocketInput(PipeReader reader, SocketPipe owner) : PipeReader
{
    public override void Complete(Exception? exception = null)
    {
        owner.ShutdownReceive();
        reader.Complete(exception);
    }

    public override void AdvanceTo(SequencePosition consumed) => reader.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => reader.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => reader.CancelPendingRead();

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) => reader.ReadAsync(cancellationToken);

    public override bool TryRead(out ReadResult result) => reader.TryRead(out result);
}
