namespace Proxy.Upstream;

public sealed partial class Endpoint
{
    private ConnectionPool? _pool;

    /// <summary>
    /// The idle HTTP/1.1 connections to this endpoint. Lives with the endpoint so it survives reloads
    /// that keep the endpoint; the snapshot compiler creates it and updates its settings.
    /// </summary>
    public ConnectionPool Pool
    {
        get => Volatile.Read(ref _pool) ?? throw new InvalidOperationException($"endpoint {Authority} has no pool");
        set => Volatile.Write(ref _pool, value);
    }

    /// <summary>True once the snapshot compiler has given it a pool.</summary>
    public bool HasPool => Volatile.Read(ref _pool) is not null;
}
