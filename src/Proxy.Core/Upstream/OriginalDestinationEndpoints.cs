using System.Collections.Concurrent;
using System.Net;

namespace Proxy.Upstream;

/// <summary>
/// The endpoints of an original-destination cluster (Envoy's <c>ORIGINAL_DST</c>): one per destination a client's
/// connection was going to, made the first time it is needed and forgotten, with its idle connections, once nothing
/// has used it for the cleanup interval (as Envoy's cluster does). Picking an endpoint already made allocates nothing.
/// </summary>
public sealed class OriginalDestinationEndpoints
{
    private readonly ConcurrentDictionary<IPEndPoint, Entry> _byDestination = new();
    private readonly Action<Endpoint> _prepare;
    private readonly int? _portOverride;
    private readonly long _cleanupMs;
    private long _nextSweep;

    /// <param name="prepare">Gives a new endpoint what the cluster's configured endpoints get (pools, log, source address).</param>
    public OriginalDestinationEndpoints(int? portOverride, TimeSpan cleanupInterval, bool http2, Action<Endpoint> prepare)
    {
        _portOverride = portOverride;
        _cleanupMs = Math.Max(1, (long)cleanupInterval.TotalMilliseconds);
        Http2 = http2;
        _prepare = prepare;
        _nextSweep = Environment.TickCount64 + _cleanupMs;
    }

    /// <summary>Whether the cluster speaks HTTP/2 to its endpoints.</summary>
    public bool Http2 { get; }

    /// <summary>How many destinations have an endpoint now.</summary>
    public int Count => _byDestination.Count;

    /// <summary>The endpoint for <paramref name="destination"/>: the one made before, or a new one.</summary>
    public Endpoint For(IPEndPoint destination)
    {
        var now = Environment.TickCount64;
        if (now >= Volatile.Read(ref _nextSweep))
        {
            Sweep(now);
        }

        if (!_byDestination.TryGetValue(destination, out var entry))
        {
            entry = _byDestination.GetOrAdd(destination, static (key, self) => self.Make(key), this);
        }

        Volatile.Write(ref entry.LastUsed, now);
        return entry.Endpoint;
    }

    /// <summary>Gives back every endpoint's idle connections (the cluster left the configuration).</summary>
    public void Clear()
    {
        foreach (var (destination, _) in _byDestination)
        {
            if (_byDestination.TryRemove(destination, out var gone))
            {
                Release(gone.Endpoint);
            }
        }
    }

    private Entry Make(IPEndPoint destination)
    {
        var address = destination.Address.IsIPv4MappedToIPv6 ? destination.Address.MapToIPv4() : destination.Address;
        var target = new IPEndPoint(address, _portOverride ?? destination.Port);
        var endpoint = new Endpoint(target.ToString(), target);
        _prepare(endpoint);
        return new Entry(endpoint, Environment.TickCount64);
    }

    /// <summary>Forgets the endpoints nothing picked within the cleanup interval; a connection still using one keeps it until it ends.</summary>
    private void Sweep(long now)
    {
        var due = Volatile.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + _cleanupMs, due) != due)
        {
            return; // another thread sweeps
        }

        foreach (var (destination, entry) in _byDestination)
        {
            if (now - Volatile.Read(ref entry.LastUsed) >= _cleanupMs && _byDestination.TryRemove(new KeyValuePair<IPEndPoint, Entry>(destination, entry)))
            {
                Release(entry.Endpoint);
            }
        }
    }

    private static void Release(Endpoint endpoint)
    {
        if (endpoint.HasPool)
        {
            endpoint.Pool.Clear();
        }

        endpoint.Http2Pool?.Clear();
    }

    private sealed class Entry(Endpoint endpoint, long lastUsed)
    {
        public readonly Endpoint Endpoint = endpoint;
        public long LastUsed = lastUsed;
    }
}
