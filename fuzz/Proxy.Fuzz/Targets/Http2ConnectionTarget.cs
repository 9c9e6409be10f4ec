using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.ExceptionServices;
using Proxy.Http.Http2;
using Proxy.Http.Http2.HPack;

namespace Proxy.Fuzz.Targets;

/// <summary>
/// A server-role <see cref="Http2Connection"/> fed the client preface and then the input as its byte stream over an
/// in-memory transport, until the input ends. Every stream it starts reads its request body and answers with headers
/// and data. Checks: the connection ends by itself once its input has ended (no hang), nothing throws, not even an
/// exception the connection would swallow as "connection lost" (the transport here never fails), and every frame the
/// connection wrote reads back as a valid frame whose header blocks decode.
/// </summary>
public static class Http2ConnectionTarget
{
    public static FuzzTarget Target { get; } = new("h2-connection", "HTTP/2 server connection over an in-memory transport; its output must be valid HTTP/2", Run);

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    // Marks the work of this run (it flows through the connection's awaits), so that the first-chance handler, which
    // sees every thread's exceptions, ignores other code running in the same process (other tests, when replayed).
    private static readonly AsyncLocal<bool> InRun = new();

    public static void Run(ReadOnlySpan<byte> input)
    {
        var incoming = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        var outgoing = new Pipe(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        var connection = new FuzzServerConnection(new Transport(incoming.Reader, outgoing.Writer));

        incoming.Writer.Write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8);
        incoming.Writer.Write(input);
        incoming.Writer.Complete();

        Exception? unexpected = null;
        void OnFirstChance(object? sender, FirstChanceExceptionEventArgs e)
        {
            // The transport never fails here, so the only exceptions expected are a stream's reset reaching its body
            // reader and cancellations; anything else is a bug even if the connection would catch it.
            if (InRun.Value && e.Exception is not (Http2StreamResetException or OperationCanceledException))
            {
                Interlocked.CompareExchange(ref unexpected, e.Exception, null);
            }
        }

        AppDomain.CurrentDomain.FirstChanceException += OnFirstChance;
        try
        {
            // The whole run starts on the thread pool, not here: under fuzz.sh the pool has one thread (Program.cs), so
            // the connection's loop, its stream handlers and every continuation run one at a time in the order they
            // were queued, and the same input takes the same path each time (AFL++'s stability), instead of racing
            // this thread.
            Task run = Task.Run(() =>
            {
                InRun.Value = true;
                return connection.RunAsync();
            });
            FuzzFinding.Check(run.Wait(Deadline), "the connection did not end after its input ended");
            FuzzFinding.Check(connection.WaitForStreams(Deadline), "a stream handler did not end after the connection ended");
        }
        finally
        {
            AppDomain.CurrentDomain.FirstChanceException -= OnFirstChance;
        }

        if (unexpected is not null)
        {
            ExceptionDispatchInfo.Capture(unexpected).Throw();
        }

        CheckOutput(outgoing.Reader);
    }

    /// <summary>The frames the connection wrote must read back without error, and their header blocks must decode.</summary>
    private static void CheckOutput(PipeReader output)
    {
        if (!output.TryRead(out ReadResult result))
        {
            return;
        }

        var frames = new Http2FrameReader { MaxFrameSize = Http2Settings.MaxAllowedFrameSize };
        var decoder = new HPackDecoder();
        var block = new ArrayBufferWriter<byte>();
        var reader = new SequenceReader<byte>(result.Buffer);
        while (true)
        {
            Http2ReadStatus status = frames.TryReadFrame(ref reader, out Http2Frame frame, out Http2FrameError error);
            if (status == Http2ReadStatus.NeedMoreData)
            {
                break;
            }

            FuzzFinding.Check(status == Http2ReadStatus.Frame, $"the connection wrote an invalid frame: {error}");
            if (frame.Type is Http2FrameType.Headers or Http2FrameType.Continuation)
            {
                foreach (ReadOnlyMemory<byte> memory in frame.Payload)
                {
                    block.Write(memory.Span);
                }

                if (frame.EndHeaders)
                {
                    var sink = new Discard();
                    HPackDecodeStatus decoded = decoder.Decode(block.WrittenSpan, ref sink);
                    FuzzFinding.Check(decoded == HPackDecodeStatus.Success, $"the connection wrote a header block that does not decode: {decoder.LastError}");
                    block.Clear();
                }
            }
        }

        output.AdvanceTo(result.Buffer.End);
    }

    private readonly struct Discard : IHPackHeaderHandler
    {
        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, bool neverIndexed)
        {
        }
    }

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe, IDisposable
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;

        public void Dispose()
        {
        }
    }

    /// <summary>A server connection whose streams read their request and answer 200 with a short body.</summary>
    private sealed class FuzzServerConnection : Http2Connection
    {
        private static readonly ReadOnlySequence<byte> Body = new("fuzz"u8.ToArray());
        private readonly List<Task> _handlers = [];

        public FuzzServerConnection(Transport transport)
            : base(transport, transport, isServer: true, new Http2ConnectionOptions
            {
                MaxConcurrentStreams = 8,
                InitialStreamWindowSize = 1024,
                ConnectionWindowSize = 4096,
                MaxHeaderListSize = 1024,
                MaxHeaderBlockSize = 2048,
            })
        {
        }

        public Task RunAsync() => RunConnectionAsync();

        public bool WaitForStreams(TimeSpan deadline)
        {
            Task[] handlers;
            lock (_handlers)
            {
                handlers = [.. _handlers];
            }

            return Task.WaitAll(handlers, deadline);
        }

        protected override void OnStreamStarted(Http2Stream stream)
        {
            Task handler = ServeAsync(stream);
            lock (_handlers)
            {
                _handlers.Add(handler);
            }
        }

        private async Task ServeAsync(Http2Stream stream)
        {
            try
            {
                while (true)
                {
                    ReadResult read = await stream.Input.ReadAsync().ConfigureAwait(false);
                    long length = read.Buffer.Length;
                    stream.Input.AdvanceTo(read.Buffer.End);
                    if (length > 0)
                    {
                        await OnDataConsumed(stream, (int)length).ConfigureAwait(false);
                    }

                    if (read.IsCompleted || read.IsCanceled)
                    {
                        break;
                    }
                }

                var headers = new Http2HeaderList();
                headers.AddStatus(200);
                headers.Add("content-type"u8, "text/plain"u8);
                if (await SendHeadersAsync(stream, headers, endStream: false).ConfigureAwait(false))
                {
                    await SendDataAsync(stream, Body, endStream: true).ConfigureAwait(false);
                }
            }
            catch (Http2StreamResetException)
            {
                // The client reset the stream or the connection ended: documented for a body reader.
            }
            finally
            {
                await ReleaseStreamAsync(stream).ConfigureAwait(false);
            }
        }
    }
}
