using Proxy.Observability.Metrics;

namespace Proxy.Tls;

/// <summary>TLS handshake counters, registered once per process.</summary>
public sealed class TlsMetrics(MetricsRegistry registry)
{
    /// <summary>Handshakes completed, by listener and TLS version.</summary>
    public CounterFamily Handshakes { get; } = registry.Counter("proxy_tls_handshakes_total", "TLS handshakes completed on listeners.", "listener", "version");

    /// <summary>Handshakes refused or failed (no or untrusted client certificate, timeout, not TLS).</summary>
    public CounterFamily HandshakeFailures { get; } = registry.Counter("proxy_tls_handshake_failures_total", "TLS handshakes that failed on listeners.", "listener");
}
