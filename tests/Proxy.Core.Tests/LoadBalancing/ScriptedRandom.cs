using Proxy.LoadBalancing;

namespace Proxy.Tests.LoadBalancing;

/// <summary>
/// An <see cref="IRandomSource"/> that replays a script, cycling: Next(max) returns the next value
/// modulo max, NextUInt64 the next value as is. Counts how many values were drawn.
/// </summary>
internal sealed class ScriptedRandom(params ulong[] script) : IRandomSource
{
    private int _position;

    public int Draws => _position;

    public long Next(long maxExclusive) => (long)(NextValue() % (ulong)maxExclusive);

    public ulong NextUInt64() => NextValue();

    private ulong NextValue() => script[_position++ % script.Length];
}
