using System.Runtime.InteropServices;

namespace Proxy.LoadBalancing;

/// <summary>
/// A 64-bit counter alone on its cache line, so that cores incrementing it do not keep evicting the
/// read-only fields (endpoint arrays, tables) that sit next to it in the picker.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedCounter
{
    /// <summary>The counter; use Interlocked on it.</summary>
    [FieldOffset(64)]
    public long Value;
}
