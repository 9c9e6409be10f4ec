using System.IO.Pipelines;

namespace Proxy.Async;

/// <summary>
/// The pipe scheduler of every socket pipe: runs a continuation inline, as <see cref="PipeScheduler.Inline"/> does,
/// inside a <see cref="ReadBatch"/>. Whatever the woken code asks to run later (an HTTP/2 connection's flush, a
/// stream consumer's wake-up) then runs on this thread when the continuation returns, instead of being queued to the
/// thread pool.
/// </summary>
/// <remarks>
/// The HTTP/2 read loop opened its own batch; code woken by any other socket read did not. An HTTP/1.1 request
/// forwarded as an HTTP/2 stream (sidecar to sidecar), or an HTTP/1.1 upstream's response relayed on an HTTP/2
/// client's stream, wrote its frames and then queued the connection's flush to the thread pool: one hop to another
/// thread per request and direction before the frames reached the socket, and idle workers spinning for the next.
/// Run here, the frames written by the woken code (HEADERS and the DATA after them) leave in one send as soon as that
/// code waits for its next event, on the thread that read the bytes, as in an event loop. Such a batch holds one
/// event, so a connection carrying many streams still gathers their frames on the thread pool (see
/// <c>Http2Connection.ScheduleFlush</c>).
/// </remarks>
public sealed class ReadBatchScheduler : PipeScheduler
{
    public static ReadBatchScheduler Instance { get; } = new();

    private ReadBatchScheduler()
    {
    }

    public override void Schedule(Action<object?> action, object? state)
    {
        bool batch = ReadBatch.Open(manyEvents: false);
        try
        {
            action(state);
        }
        finally
        {
            if (batch)
            {
                ReadBatch.Close();
            }
        }
    }
}
