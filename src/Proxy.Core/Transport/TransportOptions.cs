using System.IO.Pipelines;
using Proxy.Async;
using Proxy.Buffers;

namespace Proxy.Transport;

/// <summary>
/// Pipe and socket settings shared by listeners and connectors. All pipes use the one block pool and
/// inline schedulers: continuations run on the socket engine threads (see DESIGN.md, "Scheduling"),
/// so nothing reading these pipes may block. A reader's continuation runs inside a <see cref="ReadBatch"/>
/// (<see cref="ReadBatchScheduler"/>), so the flushes it asks for run on the same thread when it returns.
/// </summary>
public static class TransportOptions
{
    /// <summary>Bytes buffered in one direction before the writer is paused (backpressure).</summary>
    public const int PauseWriterThreshold = 256 * 1024;

    /// <summary>Where a paused writer resumes.</summary>
    public const int ResumeWriterThreshold = 128 * 1024;

    /// <summary>Options for both pipes of every socket.</summary>
    public static PipeOptions Pipe { get; } = new(
        pool: BlockMemoryPool.Shared,
        readerScheduler: ReadBatchScheduler.Instance,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: PauseWriterThreshold,
        resumeWriterThreshold: ResumeWriterThreshold,
        minimumSegmentSize: BlockMemoryPool.BlockSize,
        useSynchronizationContext: false);

    /// <summary>
    /// Bytes read from an upstream and not yet handed on before the socket read pauses: the response body waits in
    /// the kernel's socket buffer (and the upstream's send), not here, while the client is slower than the upstream.
    /// An HTTP/2 client that grants a small window (RFC 9113, 5.2) and reads nothing would otherwise park the whole
    /// <see cref="PauseWriterThreshold"/> per stream (docs/benchmarks.md, "HTTP/2 slow readers"). Two 16 KiB blocks
    /// keep a read in flight while the last one is sent on, so a fast client still gets the upstream's throughput.
    /// </summary>
    public const int UpstreamPauseReadThreshold = 32 * 1024;

    /// <summary>Where a paused upstream read resumes.</summary>
    public const int UpstreamResumeReadThreshold = 16 * 1024;

    /// <summary>Options for the receive pipe of upstream sockets (see <see cref="UpstreamPauseReadThreshold"/>).</summary>
    public static PipeOptions UpstreamReceivePipe { get; } = new(
        pool: BlockMemoryPool.Shared,
        readerScheduler: ReadBatchScheduler.Instance,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: UpstreamPauseReadThreshold,
        resumeWriterThreshold: UpstreamResumeReadThreshold,
        minimumSegmentSize: BlockMemoryPool.BlockSize,
        useSynchronizationContext: false);

    /// <summary>Whether the runtime was asked to run socket continuations inline (set by the host at start).</summary>
    public static bool InlineSocketCompletions =>
        Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") == "1";
}
