using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Proxy.Transport;

/// <summary>
/// The send loop's one reusable socket operation: a buffered sequence of any number of segments leaves in one
/// <c>sendmsg</c> (a buffer list), a single segment in one <c>send</c>, and waiting allocates nothing.
/// </summary>
internal sealed class SocketSender : SocketAsyncEventArgs, IValueTaskSource<int>
{
    private readonly List<ArraySegment<byte>> _segments = new(4);
    private ManualResetValueTaskSourceCore<int> _completion; // continuations run where the send completes (inline)

    public SocketSender()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
    }

    /// <summary>Sends all of <paramref name="buffer"/> (the runtime sends the rest of a partial send itself).</summary>
    public ValueTask<int> SendAsync(Socket socket, in ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            if (BufferList is not null)
            {
                BufferList = null;
            }

            SetBuffer(MemoryMarshal.AsMemory(buffer.First));
        }
        else
        {
            SetBuffer(Memory<byte>.Empty);
            _segments.Clear();
            foreach (ReadOnlyMemory<byte> segment in buffer)
            {
                if (!MemoryMarshal.TryGetArray(segment, out ArraySegment<byte> array))
                {
                    throw new InvalidOperationException("send buffers come from array-backed pools");
                }

                _segments.Add(array);
            }

            BufferList = _segments;
        }

        _completion.Reset();
        if (!socket.SendAsync(this))
        {
            return SocketError == SocketError.Success
                ? new ValueTask<int>(BytesTransferred)
                : ValueTask.FromException<int>(new SocketException((int)SocketError));
        }

        return new ValueTask<int>(this, _completion.Version);
    }

    /// <summary>Drops the last send's buffers (a pooled sender must not keep blocks alive); see <see cref="SocketSenderPool"/>.</summary>
    public void Reset()
    {
        if (BufferList is not null)
        {
            BufferList = null;
            _segments.Clear();
        }
        else
        {
            SetBuffer(Memory<byte>.Empty);
        }
    }

    protected override void OnCompleted(SocketAsyncEventArgs e)
    {
        if (SocketError == SocketError.Success)
        {
            _completion.SetResult(BytesTransferred);
        }
        else
        {
            _completion.SetException(new SocketException((int)SocketError));
        }
    }

    int IValueTaskSource<int>.GetResult(short token) => _completion.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _completion.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}
