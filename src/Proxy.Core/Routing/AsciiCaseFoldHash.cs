using System.Numerics;
using System.Runtime.InteropServices;

namespace Proxy.Routing;

/// <summary>
/// The hash of host names and domain keys for the open-addressed tables of <see cref="HostRouteIndex"/> and
/// <see cref="DomainTable"/>: ASCII letters hash alike in either case, so lookups need no lowercased copy.
/// </summary>
internal static class AsciiCaseFoldHash
{
    // Hashes 8 bytes per step (a 30-byte host costs 4 multiplies) and every byte counts, so hosts that
    // share long prefixes and suffixes ("payments-api.prod.svc.cluster.local" and "payments-web...") still
    // spread. OR-ing 0x20 into every byte folds ASCII letters to lowercase, so equal hosts in any case hash
    // alike; it also merges some non-letters, which only costs a probe since keys are compared exactly.
    public static uint Of(ReadOnlySpan<byte> host)
    {
        const ulong Fold = 0x2020202020202020;
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        ulong hash = (ulong)host.Length * Multiplier;
        if (host.Length < sizeof(ulong))
        {
            ulong word = 0;
            for (int i = 0; i < host.Length; i++)
            {
                word = (word << 8) | host[i];
            }

            return Finish(Step(hash, word | Fold));
        }

        int last = host.Length - sizeof(ulong);
        for (int i = 0; i < last; i += sizeof(ulong))
        {
            hash = Step(hash, MemoryMarshal.Read<ulong>(host.Slice(i)) | Fold);
        }

        // The final word ends at the last byte, overlapping the previous one when the length is not a multiple of 8.
        return Finish(Step(hash, MemoryMarshal.Read<ulong>(host.Slice(last)) | Fold));

        static ulong Step(ulong hash, ulong word) => BitOperations.RotateLeft((hash ^ word) * Multiplier, 27);

        static uint Finish(ulong hash) => (uint)((hash * Multiplier) >> 32);
    }
}
