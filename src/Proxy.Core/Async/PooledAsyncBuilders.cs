using System.Runtime.CompilerServices;
using System.Threading.Tasks.Sources;

namespace Proxy.Async;

/// <summary>
/// Async method builder for <see cref="ValueTask{TResult}"/> methods that run once per request or stream. Like the BCL's
/// <see cref="PoolingAsyncValueTaskMethodBuilder{TResult}"/> it keeps the state machine of a suspended call in a
/// reused box, but its pool holds many boxes per method (<see cref="AsyncBoxPool{TBox}.Capacity"/>), where the
/// BCL's keeps one per thread and one per core: with hundreds of streams in flight the BCL cache misses on nearly
/// every stream and allocates the box.
/// </summary>
/// <remarks>
/// Continuations are passed to awaiters as a cached <see cref="Action"/> per box and do not flow
/// <see cref="ExecutionContext"/> (the proxy's stream code uses no AsyncLocal). The awaited sources of the stream
/// path (the stream's header signal and body pipe) schedule that action on the thread pool without allocating; see
/// <see cref="Http.Http2.Http2Stream"/>.
/// </remarks>
public struct PooledValueTaskMethodBuilder<TResult>
{
    private IPooledAsyncBox<TResult>? _box;
    private TResult _result;
    private Exception? _exception;

    public static PooledValueTaskMethodBuilder<TResult> Create() => default;

    public ValueTask<TResult> Task
    {
        get
        {
            if (_box is { } box)
            {
                return new ValueTask<TResult>(box, box.Version);
            }

            return _exception is null ? new ValueTask<TResult>(_result) : ValueTask.FromException<TResult>(_exception);
        }
    }

    public void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => stateMachine.MoveNext();

    public void SetStateMachine(IAsyncStateMachine stateMachine)
    {
    }

    public void SetResult(TResult result)
    {
        if (_box is null)
        {
            _result = result;
        }
        else
        {
            _box.SetResult(result);
        }
    }

    public void SetException(Exception exception)
    {
        if (_box is null)
        {
            _exception = exception;
        }
        else
        {
            _box.SetException(exception);
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.OnCompleted(BoxFor(ref stateMachine));

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.UnsafeOnCompleted(BoxFor(ref stateMachine));

    private Action BoxFor<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine =>
        PooledAsyncBox<TStateMachine, TResult>.ContinuationFor(ref _box, ref stateMachine);
}

/// <summary>The non-generic form of <see cref="PooledValueTaskMethodBuilder{TResult}"/>, for <see cref="ValueTask"/> methods.</summary>
public struct PooledValueTaskMethodBuilder
{
    private IPooledAsyncBox<bool>? _box;
    private Exception? _exception;

    public static PooledValueTaskMethodBuilder Create() => default;

    public ValueTask Task
    {
        get
        {
            if (_box is { } box)
            {
                return new ValueTask(box, box.Version);
            }

            return _exception is null ? default : ValueTask.FromException(_exception);
        }
    }

    public void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => stateMachine.MoveNext();

    public void SetStateMachine(IAsyncStateMachine stateMachine)
    {
    }

    public void SetResult() => _box?.SetResult(true);

    public void SetException(Exception exception)
    {
        if (_box is null)
        {
            _exception = exception;
        }
        else
        {
            _box.SetException(exception);
        }
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.OnCompleted(BoxFor(ref stateMachine));

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.UnsafeOnCompleted(BoxFor(ref stateMachine));

    private Action BoxFor<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine =>
        PooledAsyncBox<TStateMachine, bool>.ContinuationFor(ref _box, ref stateMachine);
}

/// <summary>What the builders need of a box whatever its state machine type.</summary>
internal interface IPooledAsyncBox<TResult> : IValueTaskSource<TResult>, IValueTaskSource
{
    short Version { get; }

    void SetResult(TResult result);

    void SetException(Exception exception);
}

/// <summary>
/// A suspended async call: its state machine, the cached continuation that resumes it, and the completion source its
/// caller awaits. Returned to the pool when the caller has taken the result (<see cref="GetResult"/>), as the BCL's
/// pooling builder does; the ValueTask contract (await once) makes that the last use.
/// </summary>
internal sealed class PooledAsyncBox<TStateMachine, TResult> : IPooledAsyncBox<TResult>
    where TStateMachine : IAsyncStateMachine
{
    public TStateMachine StateMachine = default!;
    public readonly Action MoveNextAction;
    private ManualResetValueTaskSourceCore<TResult> _core;

    public PooledAsyncBox() => MoveNextAction = MoveNext;

    /// <summary>
    /// The continuation to hand an awaiter: the call's box, rented on its first suspension. The builder holding
    /// <paramref name="box"/> lives inside the state machine struct, so setting it before the copy makes the boxed
    /// copy point at its own box.
    /// </summary>
    public static Action ContinuationFor(ref IPooledAsyncBox<TResult>? box, ref TStateMachine stateMachine)
    {
        if (box is PooledAsyncBox<TStateMachine, TResult> existing)
        {
            return existing.MoveNextAction;
        }

        PooledAsyncBox<TStateMachine, TResult> rented = AsyncBoxPool<PooledAsyncBox<TStateMachine, TResult>>.Rent();
        box = rented;
        rented.StateMachine = stateMachine;
        return rented.MoveNextAction;
    }

    public short Version => _core.Version;

    public void SetResult(TResult result) => _core.SetResult(result);

    public void SetException(Exception exception) => _core.SetException(exception);

    public TResult GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    void IValueTaskSource.GetResult(short token)
    {
        try
        {
            _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags & ~ValueTaskSourceOnCompletedFlags.FlowExecutionContext);

    private void MoveNext() => StateMachine.MoveNext();

    private void Recycle()
    {
        _core.Reset();
        StateMachine = default!; // drop the references the finished call held
        AsyncBoxPool<PooledAsyncBox<TStateMachine, TResult>>.Return(this);
    }
}

/// <summary>
/// A LIFO pool per box type (LIFO: the box used last is the one still in cache), with a few boxes per thread in front
/// of a shared stack (<see cref="Buffers.LifoPool{T}"/>): a method suspended and resumed on socket threads rents and
/// returns its box without a lock most of the time.
/// </summary>
internal static class AsyncBoxPool<TBox>
    where TBox : class, new()
{
    /// <summary>
    /// Boxes kept per method; a few hundred bytes each, so the bound is about a MiB per method, reached only after that
    /// many calls were suspended at once. It must exceed the streams in flight (1,600 under run-bench's h2load), or
    /// the boxes of a burst that all complete together are dropped and reallocated by the next.
    /// </summary>
    public const int Capacity = 4096;

    private static readonly Buffers.LifoPool<TBox> s_pool = new(Capacity, threadCacheSize: 32);

    public static TBox Rent() => s_pool.TryRent() ?? new TBox();

    public static void Return(TBox box) => s_pool.Return(box);
}

/// <summary>
/// Return type of an async method that nobody awaits (a stream's handler started by the read loop): its box goes
/// back to the pool as soon as the method ends, instead of when an awaiter takes the result.
/// </summary>
[AsyncMethodBuilder(typeof(FireAndForgetMethodBuilder))]
public readonly struct FireAndForget;

/// <summary>Builder of <see cref="FireAndForget"/> methods; boxes pooled as in <see cref="PooledValueTaskMethodBuilder"/>.</summary>
public struct FireAndForgetMethodBuilder
{
    private IFireAndForgetBox? _box;

    /// <summary>Receives exceptions that escaped a fire-and-forget method (they have no awaiter to go to).</summary>
    public static event Action<Exception>? UnhandledException;

    public static FireAndForgetMethodBuilder Create() => default;

    public FireAndForget Task => default;

    public void Start<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine => stateMachine.MoveNext();

    public void SetStateMachine(IAsyncStateMachine stateMachine)
    {
    }

    // The generated MoveNext touches nothing after these calls, so the box may be reused at once.
    public void SetResult() => _box?.Recycle();

    public void SetException(Exception exception)
    {
        _box?.Recycle();
        UnhandledException?.Invoke(exception);
    }

    public void AwaitOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : INotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.OnCompleted(BoxFor(ref stateMachine));

    public void AwaitUnsafeOnCompleted<TAwaiter, TStateMachine>(ref TAwaiter awaiter, ref TStateMachine stateMachine)
        where TAwaiter : ICriticalNotifyCompletion
        where TStateMachine : IAsyncStateMachine =>
        awaiter.UnsafeOnCompleted(BoxFor(ref stateMachine));

    private Action BoxFor<TStateMachine>(ref TStateMachine stateMachine)
        where TStateMachine : IAsyncStateMachine
    {
        if (_box is FireAndForgetBox<TStateMachine> existing)
        {
            return existing.MoveNextAction;
        }

        FireAndForgetBox<TStateMachine> box = AsyncBoxPool<FireAndForgetBox<TStateMachine>>.Rent();
        _box = box;
        box.StateMachine = stateMachine;
        return box.MoveNextAction;
    }
}

internal interface IFireAndForgetBox
{
    void Recycle();
}

internal sealed class FireAndForgetBox<TStateMachine> : IFireAndForgetBox
    where TStateMachine : IAsyncStateMachine
{
    public TStateMachine StateMachine = default!;
    public readonly Action MoveNextAction;

    public FireAndForgetBox() => MoveNextAction = MoveNext;

    public void Recycle()
    {
        StateMachine = default!;
        AsyncBoxPool<FireAndForgetBox<TStateMachine>>.Return(this);
    }

    private void MoveNext() => StateMachine.MoveNext();
}
