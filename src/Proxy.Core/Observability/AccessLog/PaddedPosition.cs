using System.Runtime.InteropServices;

namespace Proxy.Observability.AccessLog;

/// <summary>A long alone on its cache line (64 bytes of padding each side), so two hot counters do not false-share.</summary>
[StructLayout(LayoutKind.Explicit, Size = 128)]
internal struct PaddedPosition
{
    [FieldOffset(64)]
    public long Value;
}
