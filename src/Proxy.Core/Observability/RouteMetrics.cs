using System.Globalization;
using Proxy.Forwarding;
using Proxy.Resilience;

namespace Proxy.Observability;

/// <summary>
/// Request metrics of one (listener, route, cluster) and one peer: a series per response code and flag, created
/// the first time that combination is seen and then found by array index, so recording a request neither allocates
/// nor looks anything up by string. The labels are Istio's standard ones (plus <c>listener</c> and <c>route</c>):
/// this proxy's own workload on its side (<c>source_*</c> when <paramref name="reporter"/> is "source",
/// <c>destination_*</c> when it is "destination"), the peer's on the other, found per request with
/// <see cref="ForPeer"/>.
/// </summary>
public sealed class RouteMetrics(
    RequestMetricFamilies families, string listener, string route, string cluster, string reporter = "source", WorkloadLabels? local = null, ServiceLabels? service = null)
{
    /// <summary>Most peers one route tells apart; past it, requests count under the unknown peer (label cardinality).</summary>
    public const int MaxPeers = 64;

    private readonly WorkloadLabels _local = local ?? WorkloadLabels.Unknown;
    private readonly ServiceLabels _service = service ?? ServiceLabels.Of(cluster);
    private PeerLabels _peer = PeerLabels.Unknown;
    private RouteMetrics[] _byPeer = [];
    private readonly Lock _gate = new(); // guards the copy-on-write lists (peers, series); readers never take it

    /// <summary>
    /// The metrics of this route for requests with <paramref name="peer"/> on the other side (interned labels, found by
    /// reference); this object itself for an unknown peer.
    /// </summary>
    public RouteMetrics ForPeer(PeerLabels? peer)
    {
        if (peer is null || ReferenceEquals(peer, _peer))
        {
            return this;
        }

        foreach (var metrics in Volatile.Read(ref _byPeer))
        {
            if (ReferenceEquals(metrics._peer, peer))
            {
                return metrics;
            }
        }

        lock (_gate)
        {
            foreach (var metrics in _byPeer)
            {
                if (ReferenceEquals(metrics._peer, peer))
                {
                    return metrics;
                }
            }

            if (_byPeer.Length >= MaxPeers)
            {
                return this;
            }

            var added = new RouteMetrics(families, listener, route, cluster, reporter, _local, _service) { _peer = peer };
            Volatile.Write(ref _byPeer, [.. _byPeer, added]);
            return added;
        }
    }

    private const int MinStatus = 100;
    private const int StatusCount = 500; // 100..599
    private const int NoStatus = StatusCount; // the slot of status 0: no response was sent (DC)
    private const int SlotCount = (StatusCount + 1) * ResponseFlags.Count;
    private const int MaxGrpcStatus = 16; // UNAUTHENTICATED, the last canonical code (grpc/doc/statuscodes.md)
    private const int GrpcSlots = MaxGrpcStatus + 3; // none, 0..16, and one for any other code

    // The series seen so far, few in practice (200, a 404, a 503 UF...): a copy-on-write list scanned in order. A
    // table with a slot for every (status, flag, protocol) held 60 KiB per route, per cluster and per peer, 120 MB
    // for 2,000 routes; the list holds a few dozen bytes and is scanned about as fast.
    private Entry[] _entries = [];

    private sealed class Entry(int key, RequestSeries series)
    {
        public readonly int Key = key;
        public readonly RequestSeries Series = series;
    }

    public RequestSeries Get(int status, ResponseFlag flag) => Get(status, flag, grpc: false);

    /// <summary>
    /// The series of a request; <paramref name="grpc"/> selects request_protocol "grpc" instead of "http", and
    /// <paramref name="grpcStatus"/> (a gRPC call's status from its trailers, or -1 for none) fills
    /// grpc_response_status. Codes past gRPC's 16 canonical ones share one series labelled with the first seen,
    /// so a misbehaving server cannot grow the label's cardinality.
    /// </summary>
    public RequestSeries Get(int status, ResponseFlag flag, bool grpc, int grpcStatus = AttemptOutcome.NoGrpcStatus)
    {
        var statusIndex = (uint)(status - MinStatus) < StatusCount ? status - MinStatus : status == 0 ? NoStatus : 0;
        var grpcSlot = (uint)grpcStatus <= MaxGrpcStatus ? grpcStatus + 1 : grpcStatus < 0 ? 0 : GrpcSlots - 1;
        var key = ((statusIndex * ResponseFlags.Count + (int)flag + (grpc ? SlotCount : 0)) * GrpcSlots) + grpcSlot;
        foreach (var entry in Volatile.Read(ref _entries))
        {
            if (entry.Key == key)
            {
                return entry.Series;
            }
        }

        return Create(key, status, flag, grpc ? "grpc" : "http", grpcStatus);
    }

    private RequestSeries Create(int key, int status, ResponseFlag flag, string protocol, int grpcStatus)
    {
        lock (_gate)
        {
            foreach (var entry in _entries)
            {
                if (entry.Key == key)
                {
                    return entry.Series; // made by a racing request
                }
            }

            bool source = reporter == "source";
            var from = source ? _local : _peer.Workload;
            var to = source ? _peer.Workload : _local;
            var series = new RequestSeries(families, [
                reporter, listener, route,
                from.Workload, from.Namespace, from.Principal, from.App, from.Version,
                to.Workload, to.Namespace, to.Principal, to.App, to.Version,
                _service.Host, _service.Name, _service.Namespace,
                protocol, status.ToString(CultureInfo.InvariantCulture),
                grpcStatus < 0 ? "" : grpcStatus.ToString(CultureInfo.InvariantCulture), flag.ShortCode(), _peer.SecurityPolicy]);
            Volatile.Write(ref _entries, [.. _entries, new Entry(key, series)]);
            return series;
        }
    }
}
