using System.Buffers;
using System.IO.Pipelines;

namespace Proxy.Resilience;

/// <summary>
/// Keeps a copy of a request body so a retry can send it again. Bodies up to <see cref="Limit"/>
/// (64 KiB by default) are buffered in pooled memory; a larger body sets <see cref="IsOverflowed"/>
/// and the request is not retried (Envoy and linkerd2-proxy bound replay buffers the same way).
/// Reusable: <see cref="Reset"/> returns the memory and readies it for the next request, so the
/// forwarder can keep one per connection or take one from an object pool. Not thread-safe (one request owns it).
/// </summary>
public sealed class RetryBodyBuffer : IDisposable
{
    /// <summary>Largest body replayed by default.</summary>
    public const int DefaultLimit = 64 * 1024;

    private const int InitialSize = 4 * 1024;

    private readonly ArrayPool<byte> _pool;
    private byte[]? _array;
    private int _length;

    public RetryBodyBuffer(int limit = DefaultLimit, ArrayPool<byte>? pool = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        Limit = limit;
        _pool = pool ?? ArrayPool<byte>.Shared;
    }

    /// <summary>Largest body kept.</summary>
    public int Limit { get; }

    /// <summary>Bytes held.</summary>
    public int Length => _length;

    /// <summary>True once data was refused because the body is larger than <see cref="Limit"/>: the request must not be retried.</summary>
    public bool IsOverflowed { get; private set; }

    /// <summary>The bytes held, to send (again).</summary>
    public ReadOnlyMemory<byte> Buffered => _array is null ? ReadOnlyMemory<byte>.Empty : _array.AsMemory(0, _length);

    /// <summary>
    /// Appends <paramref name="data"/> whole, or nothing: false (and <see cref="IsOverflowed"/> set) when it would exceed <see cref="Limit"/>.
    /// Use it to tee a body while streaming it upstream on the first try.
    /// </summary>
    public bool Append(ReadOnlySpan<byte> data)
    {
        if (IsOverflowed || data.Length > Limit - _length)
        {
            IsOverflowed = true;
            return false;
        }

        EnsureCapacity(_length + data.Length);
        data.CopyTo(_array.AsSpan(_length));
        _length += data.Length;
        return true;
    }

    /// <summary>As <see cref="Append(ReadOnlySpan{byte})"/> for a sequence.</summary>
    public bool Append(in ReadOnlySequence<byte> data)
    {
        if (IsOverflowed || data.Length > Limit - _length)
        {
            IsOverflowed = true;
            return false;
        }

        EnsureCapacity(_length + (int)data.Length);
        data.CopyTo(_array.AsSpan(_length));
        _length += (int)data.Length;
        return true;
    }

    /// <summary>
    /// Reads <paramref name="body"/> (a reader that yields exactly the request body) to its end. True when the
    /// whole body is held. False on overflow: the read that did not fit is left unconsumed in the reader,
    /// so the caller sends <see cref="Buffered"/> and then streams the rest of the reader (and does not retry).
    /// </summary>
    public async ValueTask<bool> FillAsync(PipeReader body, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var result = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (!Append(buffer))
            {
                // Examined only up to the start: the next ReadAsync returns these bytes at once.
                body.AdvanceTo(buffer.Start);
                return false;
            }

            body.AdvanceTo(buffer.End);
            if (result.IsCompleted || result.IsCanceled)
            {
                return result.IsCompleted;
            }
        }
    }

    /// <summary>Copies the held bytes into <paramref name="writer"/> (the caller flushes).</summary>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        if (_length > 0)
        {
            writer.Write(_array.AsSpan(0, _length));
        }
    }

    /// <summary>Returns the memory to the pool and forgets the body, ready for the next request.</summary>
    public void Reset()
    {
        if (_array is { } array)
        {
            _array = null;
            _pool.Return(array);
        }

        _length = 0;
        IsOverflowed = false;
    }

    /// <inheritdoc />
    public void Dispose() => Reset();

    private void EnsureCapacity(int needed)
    {
        if (_array is not null && _array.Length >= needed)
        {
            return;
        }

        int size = _array?.Length ?? InitialSize;
        while (size < needed)
        {
            size *= 2;
        }

        var next = _pool.Rent(Math.Min(Math.Max(size, needed), Math.Max(Limit, needed)));
        if (_array is { } old)
        {
            old.AsSpan(0, _length).CopyTo(next);
            _pool.Return(old);
        }

        _array = next;
    }
}
