using System.Diagnostics;
using Proxy.Buffers;
using Proxy.Observability.Metrics;

namespace Proxy.Host;

/// <summary>Process-level gauges: memory, pooled buffers, uptime.</summary>
public static class ProcessMetrics
{
    private static readonly long StartTimestamp = Stopwatch.GetTimestamp();

    public static void Register(MetricsRegistry registry)
    {
        registry.CallbackGauge("process_resident_memory_bytes", "Resident set size of the process.", static () => Environment.WorkingSet);
        registry.CallbackGauge("proxy_gc_heap_bytes", "Managed heap size.", static () => GC.GetTotalMemory(false));
        registry.CallbackGauge("proxy_gc_allocated_bytes", "Bytes allocated on the managed heap since the start (allocations per request or connection are this over a load run).", static () => GC.GetTotalAllocatedBytes(precise: true));
        registry.CallbackGauge("proxy_gc_collections", "Garbage collections since the start (all generations).", static () => GC.CollectionCount(0));
        registry.CallbackGauge("proxy_buffer_pool_allocated_bytes", "Pinned buffer slabs allocated by the block pool.", static () => PinnedBlockMemoryPool.Shared.AllocatedBytes);
        registry.CallbackGauge("proxy_uptime_seconds", "Seconds since the proxy started.", static () => Stopwatch.GetElapsedTime(StartTimestamp).TotalSeconds);
    }
}
