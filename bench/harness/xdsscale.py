"""Scale of an xDS-driven sidecar: N services of 10 endpoints each pushed to the published binary by a management
server, in the shape istiod gives a sidecar: one HTTP listener whose routes come over RDS as one RouteConfiguration
with a virtual host per service, and an EDS cluster per service (`outbound|80||svc-NNNN.bench.svc.cluster.local`).

The server is tests/node/ads-server.js (grpc-node, state of the world), scripted over stdin/stdout; it encodes the
resources this module writes as objects, and time-stamps what it sends and receives with CLOCK_MONOTONIC (the clock of
time.monotonic_ns here). Every endpoint is a listening socket of its own in markupstream.py, which answers with its
port, so a response says which endpoint the proxy picked.

Figures: the proxy's RSS idle (connected, nothing pushed), after the full push, after one request through every
service, and at the end; for the full push, the time from the first response sent (CDS) to the first 200 through the
last service (the server answers each request as it comes, in Envoy's order CDS, EDS, LDS, RDS, so this includes the
proxy's round trips), and from the last response (RDS) to it; for a one-cluster endpoint change (one
ClusterLoadAssignment in an EDS response: a service's 10 endpoints move to 10 others), the time from the response
sent to the first answer from a new endpoint, polled back to back on a keep-alive connection; and the ACK time (sent
to the proxy's ACK) of each response. N is 1,000 (50 with --smoke; --xds-services overrides).
"""

import json
import os
import queue
import shutil
import sys
import threading
import time

import idleconns
import peers
import procs
from xdsclient import AdsServer, KeepAlive

PER_SERVICE = 10
CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
LDS = "type.googleapis.com/envoy.config.listener.v3.Listener"
RDS = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration"
ROUTE_NAME = "80"
RSS_TARGET_MIB = 40
UPDATE_TARGET_MS = 50
# What "settled" waits: two periods of the proxy's idle trimmer, which compacts the heap once the process is quiet.
SETTLE_S = 21
# Published Envoy sidecar memory (docs/benchmarks.md has the sources).
ENVOY_REFERENCE = "Envoy sidecars: 60 MB at 1000 rps (istio.io, Istio 1.24); 154.6 / 156.2 MB max RSS (Linkerd's 2021 " \
                  "benchmarks, Istio 1.10 / 1.12); grows with mesh size (istio/istio#7912, #26605)"


def host(i):
    return f"svc-{i:04d}.bench.svc.cluster.local"


def cluster_name(i):
    return f"outbound|80||{host(i)}"


def run(bench):
    """Fills bench.results["xdsscale"]."""
    a = bench.args
    n = a.xds_services or (50 if a.smoke else 1000)
    reps = 5 if a.smoke else 20
    out = {"services": n, "endpoints_per_service": PER_SERVICE, "updates": reps,
           "targets": {"rss_mib": RSS_TARGET_MIB, "endpoint_update_ms": UPDATE_TARGET_MS},
           "envoy": "measured" if shutil.which("envoy") else "n/a (envoy not installed on this machine)",
           "envoy_reference": ENVOY_REFERENCE, "settle_s": SETTLE_S, "rss_kib": {}, "gc_heap_bytes": {}}
    bench.results["xdsscale"] = out
    repo = bench.repo
    protos = os.path.join(repo, "build", "xds-protos", "node_modules", "@grpc", "grpc-js-xds", "deps")
    if not bench.peers.proxy_binary_exists():
        out["unavailable"] = "n/a (artifacts/publish/proxy missing)"
        return
    if not peers.tool_available("node") or not os.path.isdir(protos) \
            or not os.path.isdir(os.path.join(repo, "tests", "node", "node_modules", "@grpc", "grpc-js")):
        out["unavailable"] = "n/a (node, build/xds-protos or tests/node/node_modules missing: run scripts/setup.sh)"
        return

    work = os.path.join(bench.work_dir, "xdsscale")
    os.makedirs(work, exist_ok=True)
    upstream = bench.registry.start([sys.executable, "-B", os.path.join(repo, "bench", "harness", "markupstream.py"),
                                     str(n * PER_SERVICE + PER_SERVICE)], os.path.join(work, "upstream.log"), pipes=True)
    ports = json.loads(_read_line(upstream, 120))
    endpoints = [ports[i * PER_SERVICE:(i + 1) * PER_SERVICE] for i in range(n)]
    spare = ports[n * PER_SERVICE:]
    ads = AdsServer(bench.registry, os.path.join(repo, "tests", "node", "ads-server.js"), protos, work)
    listen_port = procs.free_ports(1)[0]
    proxy = bench.peers.start_proxy_config("xds-proxy", "proxy-xds.yaml", {"ADS_PORT": ads.port})
    pids = proxy.pids()
    try:
        ads.wait_request(lambda r: r["type_url"] == CDS, 30)
        time.sleep(2.0)
        rss, heap = out["rss_kib"], out["gc_heap_bytes"]

        def point(name):
            rss[name] = procs.memory_kib(pids)["rss"]
            heap[name] = idleconns.gauges(proxy).get("proxy_gc_heap_bytes")

        point("idle")
        out["full_push"] = full_push(ads, n, endpoints, listen_port)
        bench.log(f"xdsscale: {n} services pushed; first 200 through the last one "
                  f"{out['full_push']['first_response_to_traffic_ms']:.0f} ms after the CDS response")
        time.sleep(2.0)
        point("after_push")
        time.sleep(SETTLE_S)
        point("after_push_settled")
        out["every_service"] = every_service(listen_port, n, endpoints)
        time.sleep(1.0)
        point("after_traffic")
        allocated = idleconns.gauges(proxy).get("proxy_gc_allocated_bytes")
        out["endpoint_update"] = endpoint_updates(ads, n, endpoints, spare, listen_port, reps)
        point("after_updates")
        after = idleconns.gauges(proxy).get("proxy_gc_allocated_bytes")
        if allocated is not None and after is not None:
            # Managed bytes allocated per change: the update, the polling requests and part of /metrics scrapes.
            out["endpoint_update"]["allocated_per_update_bytes"] = (after - allocated) / reps
        time.sleep(SETTLE_S)
        point("end_settled")
        out["hwm_kib"] = procs.memory_kib(pids)["hwm"]
        u = out["endpoint_update"]
        bench.log(f"xdsscale: RSS idle {rss['idle'] / 1024:.1f} MiB, after push {rss['after_push'] / 1024:.1f} MiB "
                  f"({rss['after_push_settled'] / 1024:.1f} settled), after updates {rss['after_updates'] / 1024:.1f} MiB "
                  f"({rss['end_settled'] / 1024:.1f} settled); one-cluster endpoint change: median "
                  f"{u['median_ms']:.1f} ms, max {u['max_ms']:.1f} ms, ACK median {u['ack_median_ms']:.1f} ms")
    finally:
        bench.registry.stop(proxy.proc)
        ads.close()
        bench.registry.stop(upstream)


def full_push(ads, n, endpoints, listen_port):
    """Answers the proxy's requests in Envoy's order with all N services; timings in ms."""
    t0 = ads.send(CDS, "c1", [cluster(i) for i in range(n)])
    ads.wait_request(lambda r: r["type_url"] == EDS and len(r.get("resource_names") or []) == n, 60)
    e = ads.send(EDS, "e1", [assignment(i, endpoints[i]) for i in range(n)])
    ads.wait_request(lambda r: r["type_url"] == LDS, 60)
    lst = ads.send(LDS, "l1", [listener(listen_port)])
    ads.wait_request(lambda r: r["type_url"] == RDS and (r.get("resource_names") or []) == [ROUTE_NAME], 60)
    r = ads.send(RDS, "r1", [routes(n)])
    last = set(endpoints[n - 1])
    client = KeepAlive(listen_port)
    deadline = time.monotonic() + 120
    while True:
        answer = client.get(host(n - 1), timeout=2)
        if answer is not None and answer[0] == 200 and int(answer[1]) in last:
            traffic = time.monotonic_ns()
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"no 200 through {host(n - 1)} within 120 s of the push (last answer {answer})")
        time.sleep(0.0005)
    client.close()
    acks = {kind: ads.ack_ms(sent) for kind, sent in (("cds", t0), ("eds", e), ("lds", lst), ("rds", r))}
    return {"first_response_to_traffic_ms": (traffic - t0["t_ns"]) / 1e6,
            "last_response_to_traffic_ms": (traffic - r["t_ns"]) / 1e6,
            "ack_ms": acks, "bytes": {k: v["bytes"] for k, v in (("cds", t0), ("eds", e), ("lds", lst), ("rds", r))}}


def every_service(listen_port, n, endpoints):
    """One request through each service on one keep-alive connection: each must come from one of its own endpoints."""
    client = KeepAlive(listen_port)
    ok, t0 = 0, time.monotonic()
    for i in range(n):
        answer = client.get(host(i), timeout=5)
        if answer is not None and answer[0] == 200 and int(answer[1]) in endpoints[i]:
            ok += 1
    client.close()
    return {"ok": ok, "of": n, "seconds": round(time.monotonic() - t0, 2)}


def endpoint_updates(ads, n, endpoints, spare, listen_port, reps):
    """Moves one service's endpoints to the spare set, reps times (a different service each time); timings in ms."""
    samples, acks, failures, polls = [], [], 0, 0
    moved = set(spare)
    for rep in range(reps):
        i = (rep * 7919 + n // 2) % n
        client = KeepAlive(listen_port)
        before = client.get(host(i), timeout=5)
        if before is None or before[0] != 200 or int(before[1]) not in endpoints[i]:
            raise RuntimeError(f"{host(i)} did not answer from its endpoints before the change: {before}")
        sent = ads.send(EDS, f"e{rep + 2}", [assignment(i, spare)])
        deadline = time.monotonic() + 30
        while True:
            answer = client.get(host(i), timeout=2)
            polls += 1
            if answer is None or answer[0] != 200:
                failures += 1
            elif int(answer[1]) in moved:
                samples.append((time.monotonic_ns() - sent["t_ns"]) / 1e6)
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{host(i)} still answered from its old endpoints 30 s after the change")
        client.close()
        acks.append(ads.ack_ms(sent))
        endpoints[i] = spare
        time.sleep(0.2)
    ordered = sorted(samples)
    return {"samples_ms": [round(s, 2) for s in samples], "median_ms": ordered[len(ordered) // 2],
            "p90_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], "max_ms": ordered[-1],
            "ack_median_ms": sorted(acks)[len(acks) // 2], "ack_max_ms": max(acks),
            "failed_requests": failures, "polls": polls}


def markdown(block):
    """The report's section (report.py calls it)."""
    if not block:
        return []
    out = ["## xDS scale: a sidecar fed by a management server", ""]
    if block.get("unavailable"):
        return out + [block["unavailable"], ""]
    n, rss, push, upd = block["services"], block["rss_kib"], block["full_push"], block["endpoint_update"]
    mib = lambda k: f"{rss[k] / 1024:.1f} MiB"
    verdict = lambda ok: "under the target" if ok else "OVER the target"
    out += [f"{n} services x {block['endpoints_per_service']} endpoints ({n} EDS clusters, {n * block['endpoints_per_service']} "
            f"endpoints, one HTTP listener whose RouteConfiguration has {n} virtual hosts) pushed to the published binary by "
            "tests/node/ads-server.js (state of the world); every endpoint a socket of its own that answers with its port.", ""]
    acks = push["ack_ms"]
    heap = block.get("gc_heap_bytes", {})
    both = lambda k: mib(k) + (f" (managed heap {heap[k] / 2 ** 20:.1f} MiB)" if heap.get(k) is not None else "")
    settled = max(rss["after_push_settled"], rss["end_settled"]) / 1024
    rows = [["RSS idle (connected, nothing pushed)", both("idle")],
            ["RSS 2 s after the full push", both("after_push")],
            [f"RSS {block['settle_s']} s after the full push (settled)", both("after_push_settled")],
            [f"RSS after one request through each service ({block['every_service']['ok']}/{block['every_service']['of']} "
             "answered by their own endpoints)", both("after_traffic")],
            [f"RSS right after the {block['updates']} endpoint changes", both("after_updates")],
            [f"RSS {block['settle_s']} s later (settled)", f"{both('end_settled')}; settled figures {verdict(settled < block['targets']['rss_mib'])} of "
             f"{block['targets']['rss_mib']} MB; peak (VmHWM) {block['hwm_kib'] / 1024:.1f} MiB"],
            ["full push: CDS response sent -> first 200 through the last service", f"{push['first_response_to_traffic_ms']:.0f} ms"],
            ["full push: RDS response (the last) sent -> first 200 through the last service", f"{push['last_response_to_traffic_ms']:.0f} ms"],
            ["full push: ACK time CDS / EDS / LDS / RDS",
             " / ".join(f"{acks[k]:.0f}" for k in ("cds", "eds", "lds", "rds")) + " ms"],
            [f"one-cluster endpoint change -> traffic on the new endpoints ({block['updates']} changes)",
             f"median {upd['median_ms']:.1f} ms, p90 {upd['p90_ms']:.1f} ms, max {upd['max_ms']:.1f} ms "
             f"({verdict(upd['median_ms'] < block['targets']['endpoint_update_ms'])} of {block['targets']['endpoint_update_ms']} ms)"],
            ["one-cluster endpoint change: ACK time", f"median {upd['ack_median_ms']:.1f} ms, max {upd['ack_max_ms']:.1f} ms"],
            ["one-cluster endpoint change: managed bytes allocated (with the polling and a /metrics scrape)",
             f"{upd['allocated_per_update_bytes'] / 2 ** 20:.2f} MiB per change" if upd.get("allocated_per_update_bytes") is not None else "n/a"],
            ["requests that failed while endpoints moved", f"{upd['failed_requests']} of {upd['polls']}"],
            ["Envoy", f"{block['envoy']}; published: {block['envoy_reference']}"]]
    return out + [_table(["figure", "value"], rows), ""]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


# ---- resources, as objects with the proto field names (ads-server.js encodes them) ----------------------------

def ads_source():
    return {"ads": {}, "resource_api_version": "V3"}


def cluster(i):
    return {"name": cluster_name(i), "type": "EDS", "connect_timeout": {"seconds": 10},
            "lb_policy": "LEAST_REQUEST",
            "eds_cluster_config": {"eds_config": ads_source(), "service_name": cluster_name(i)},
            "circuit_breakers": {"thresholds": [{k: {"value": 4294967295} for k in (
                "max_connections", "max_pending_requests", "max_requests", "max_retries")}]}}


def assignment(i, ports):
    return {"cluster_name": cluster_name(i), "endpoints": [{
        "locality": {"region": "bench", "zone": "bench-a"},
        "lb_endpoints": [{"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": p}}},
                          "health_status": "HEALTHY", "load_balancing_weight": {"value": 1}} for p in ports]}]}


def listener(port):
    hcm = {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
           "stat_prefix": "outbound_0.0.0.0_80", "rds": {"route_config_name": ROUTE_NAME, "config_source": ads_source()},
           "http_filters": [{"name": "envoy.filters.http.router",
                             "typed_config": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}
    return {"name": "0.0.0.0_80", "address": {"socket_address": {"address": "127.0.0.1", "port_value": port}},
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": hcm}]}]}


def routes(n):
    hosts = []
    for i in range(n):
        name = host(i)
        hosts.append({"name": f"{name}:80", "domains": [name, name.split(".")[0], ".".join(name.split(".")[:2])],
                      "routes": [{"name": f"{name}:80/default", "match": {"prefix": "/"},
                                  "route": {"cluster": cluster_name(i), "timeout": {"seconds": 0},
                                            "retry_policy": {"retry_on": "connect-failure,refused-stream,unavailable,cancelled",
                                                             "num_retries": {"value": 2}}}}]})
    return {"name": ROUTE_NAME, "virtual_hosts": hosts}


def _read_line(proc, timeout):
    """The first line a child writes on stdout, within timeout seconds."""
    result = queue.Queue()
    threading.Thread(target=lambda: result.put(proc.stdout.readline()), daemon=True).start()
    try:
        line = result.get(timeout=timeout)
    except queue.Empty:
        raise RuntimeError(f"the child process said nothing within {timeout} s") from None
    if not line:
        raise RuntimeError("the child process ended before it was ready")
    return line
