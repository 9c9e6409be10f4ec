using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Proxy.Configuration;
using Proxy.Observability;
using Proxy.Outbound;
using Proxy.Runtime;
using Proxy.Tls;
using Proxy.Transport;

namespace Proxy.Inbound;

/// <summary>
/// Sidecar mode, from the <c>mesh</c> section: the inbound listener (mesh.inbound.port) and the
/// outbound listener (mesh.outbound.port), both on all addresses, fed by <c>proxy init</c> rules.
/// The workload certificate comes from the certificate store, so rotating its files takes effect
/// for new handshakes on both sides. Built once, when the first configuration with a mesh section
/// is applied.
/// </summary>
public sealed class MeshSidecar
{
    private readonly Listener _inbound;
    private readonly Listener _outbound;

    private readonly InboundHandler _inboundHandler;
    private readonly OutboundHandler _outboundHandler;

    private MeshSidecar(Listener inbound, Listener outbound, InboundHandler inboundHandler, OutboundHandler outboundHandler)
    {
        _inbound = inbound;
        _outbound = outbound;
        _inboundHandler = inboundHandler;
        _outboundHandler = outboundHandler;
    }

    /// <summary>Where the inbound listener is bound.</summary>
    public IPEndPoint InboundAddress => _inbound.LocalEndPoint;

    /// <summary>Where the outbound listener is bound.</summary>
    public IPEndPoint OutboundAddress => _outbound.LocalEndPoint;

    /// <summary>
    /// Loads the identity and binds both listeners. Requests on both sides are logged and traced with what
    /// <paramref name="telemetry"/> returns at the time (the access log and tracer a reload may set up). Throws <see cref="ListenerBindException"/> with
    /// every problem (unusable certificate files, a busy port).
    /// </summary>
    public static MeshSidecar Start(MeshConfig config, ProxySnapshot snapshot, CertificateStore certificates, ProxyMetrics metrics, ConnectionTracker tracker, Logger log, Func<RequestTelemetry>? telemetry = null, DownstreamHandshakeLog? handshakeLog = null)
    {
        CertificateSource workload;
        TrustBundle ca;
        try
        {
            workload = certificates.Certificate(config.Identity.Cert, config.Identity.Key);
            ca = certificates.Bundle(config.Identity.Ca);
        }
        catch (UnusableFileException ex)
        {
            throw new ListenerBindException([$"mesh.identity: {ex.Message}"]);
        }

        var mesh = new MeshMetrics(metrics.Registry);
        var peers = new PeerMetadataCache(); // peers seen by either side, read once each
        var inboundHandler = new InboundHandler(config, workload, ca, mesh, metrics, tracker, telemetry, peers, handshakeLog ?? new DownstreamHandshakeLog(log));
        var outboundHandler = new OutboundHandler(snapshot.Config, config, snapshot.Clusters, workload, ca, mesh, metrics, tracker, telemetry, peers);
        Listener? inbound = null;
        var binding = (Owner: "the mesh inbound listener (mesh.inbound.port)", Port: config.Inbound.Port);
        try
        {
            inbound = new Listener(InboundHandler.Name, new IPEndPoint(IPAddress.Any, config.Inbound.Port), inboundHandler, metrics.AcceptErrors.WithLabels(InboundHandler.Name), log);
            binding = ("the mesh outbound listener (mesh.outbound.port)", config.Outbound.Port);
            var outbound = new Listener(OutboundHandler.Name, new IPEndPoint(IPAddress.Any, config.Outbound.Port), outboundHandler, metrics.AcceptErrors.WithLabels(OutboundHandler.Name), log);
            inbound.Start();
            outbound.Start();
            log.Info("mesh sidecar listening", ("inbound", inbound.LocalEndPoint), ("outbound", outbound.LocalEndPoint), ("identity", workload.Current.SpiffeId?.Value ?? "none"), ("mode", config.Inbound.Mode.ToString().ToLowerInvariant()));
            return new MeshSidecar(inbound, outbound, inboundHandler, outboundHandler);
        }
        catch (SocketException ex)
        {
            inbound?.StopAsync().GetAwaiter().GetResult();
            throw new ListenerBindException([BindFailure.Describe(binding.Owner, $"0.0.0.0:{binding.Port}", ex)]);
        }
    }

    /// <summary>
    /// Applies a reload to both sides: the outbound services (routes, protocols, the clusters they use), and the inbound
    /// mode, detection, opaque ports, authorization and workload labels. The ports and the identity's files are not
    /// reloaded (<see cref="RestartOnlyChanges"/>); the certificate store rotates the files' contents.
    /// </summary>
    public void Update(MeshConfig config, ProxySnapshot snapshot)
    {
        _outboundHandler.Update(snapshot.Config, config, snapshot.Clusters);
        _inboundHandler.Update(config);
    }

    /// <summary>What a reload from <paramref name="running"/> to <paramref name="reloaded"/> changes that takes a restart, as a phrase; null when nothing does.</summary>
    public static string? RestartOnlyChanges(MeshConfig running, MeshConfig reloaded)
    {
        var changes = new List<string>();
        if (reloaded.Inbound.Port != running.Inbound.Port)
        {
            changes.Add("mesh.inbound.port");
        }

        if (reloaded.Outbound.Port != running.Outbound.Port)
        {
            changes.Add("mesh.outbound.port");
        }

        if (reloaded.Identity != running.Identity)
        {
            changes.Add("mesh.identity (replace the files in place instead: they are watched and rotated)");
        }

        return changes.Count == 0 ? null : string.Join(", ", changes);
    }

    /// <summary>The clusters the outbound services' HTTP traffic uses (the heartbeat expires their ejections and sweeps their pools).</summary>
    public IReadOnlyList<Upstream.Cluster> OutboundClusters => _outboundHandler.Clusters;

    /// <summary>Stops accepting on both listeners.</summary>
    public async Task StopAsync()
    {
        await _inbound.StopAsync().ConfigureAwait(false);
        await _outbound.StopAsync().ConfigureAwait(false);
    }
}
