"""The HTTP/2 workload: h2load with h2c prior knowledge against the backend, this proxy and HAProxy.

Rows: direct (the backend's h2c port), this proxy h2c -> HTTP/2 cluster, this proxy h2c -> HTTP/1.1
cluster, HAProxy `proto h2` on both sides. Upstream connections come from the backend's
stub_status accepts (every row) and, for this proxy, proxy_upstream_connections_total.
"""

import os

import loadgen
import peers
import procs

CLIENTS, STREAMS, THREADS = 16, 100, 2


class Row:
    def __init__(self, key, label, port=None, inst=None, cluster=None, unavailable=None):
        self.key, self.label, self.port, self.inst, self.cluster = key, label, port, inst, cluster
        self.unavailable = unavailable

    def pids(self):
        return self.inst.pids() if self.inst is not None else []


def run(bench):
    a = bench.args
    backend = bench.backend
    out = {"clients": CLIENTS, "streams": STREAMS, "threads": THREADS, "rows": []}
    bench.results["http2"] = out
    if not peers.tool_available("h2load"):
        out["unavailable"] = "n/a (h2load not installed: apt-get install nghttp2-client)"
        return
    if procs.wait_until(lambda: loadgen.h2_ok(backend.h2_port), None, 10) is None:
        out["unavailable"] = "n/a (the backend's h2c port does not answer h2load)"
        return
    rows = [Row("direct", "direct (nginx h2c, no proxy)", backend.h2_port, backend)]
    rows += start_proxy(bench)
    rows.append(start_haproxy(bench))
    live = [r for r in rows if not r.unavailable]
    for r in rows:
        if r.unavailable:
            bench.log(f"http2 {r.label}: {r.unavailable}")
    bench.log(f"http2 warm-up: {a.warmup}s each on {', '.join(r.label for r in live)}")
    for r in live:
        loadgen.h2load(f"http://127.0.0.1:{r.port}/", THREADS, CLIENTS, STREAMS, a.warmup)
    rounds = {r.key: [] for r in live}
    for rnd in range(a.rounds):
        order = live[rnd % len(live):] + live[:rnd % len(live)]
        for r in order:
            m = measure(bench, r, a.duration)
            rounds[r.key].append(m)
            cpu = f"{m['cpu_us_per_req']:.1f} us/req" if m.get("cpu_us_per_req") is not None else "-"
            bench.log(f"http2 round {rnd + 1}/{a.rounds} {r.label}: {m['rps']:.0f} rps, {cpu}, "
                      f"upstream conns {m.get('upstream_conns')}, errors {m['errors']}")
    out["rows"] = summarize(rows, rounds)
    for r in rows:
        if r.inst is not None and r.key != "direct":
            bench.registry.stop(r.inst.proc)


def start_proxy(bench):
    """One proxy process per row, so each row's CPU and RSS are of that scenario alone (an h2 -> HTTP/1.1 run
    holds a pooled upstream connection per stream in flight, which would otherwise count against h2 -> h2)."""
    backend = bench.backend
    labels = (("proxy-h2", "proxy h2c -> HTTP/2 upstream", "backend_h2"),
              ("proxy-h1", "proxy h2c -> HTTP/1.1 upstream", "backend_h1"))
    binary = os.path.join(bench.repo, "artifacts", "publish", "proxy")
    if not os.path.exists(binary):
        return [Row(k, l, unavailable="n/a (artifacts/publish/proxy missing)") for k, l, _ in labels]
    rows = []
    for key, label, cluster in labels:
        port, unused = procs.free_ports(2)
        # The config has a listener per cluster; the row's own is PORT or PORT_H1, the other stays idle.
        ports = {"PORT": port, "PORT_H1": unused} if cluster == "backend_h2" else {"PORT": unused, "PORT_H1": port}
        inst = bench.peers.start_proxy_config(key, "proxy-http2.yaml", dict(
            ports, BACKEND_PORT=backend.http_port, BACKEND_H2_PORT=backend.h2_port))
        if procs.wait_until(lambda p=port: loadgen.h2_ok(p, 2), inst.proc, 15) is None:
            tail = peers.log_tail(inst)
            bench.registry.stop(inst.proc)
            rows.append(Row(key, label, unavailable=f"n/a (no h2c 200 from the proxy{': ' + tail if tail else ''})"))
        else:
            rows.append(Row(key, label, port, inst, cluster))
    return rows


def start_haproxy(bench):
    label = "HAProxy h2c -> HTTP/2 upstream"
    if not peers.tool_available("haproxy"):
        return Row("haproxy", label, unavailable="n/a (haproxy not installed)")
    (port,) = procs.free_ports(1)
    inst = bench.peers.start_haproxy_config("haproxy-h2", "haproxy-h2.cfg", {
        "PORT": port, "BACKEND_H2_PORT": bench.backend.h2_port})
    if procs.wait_until(lambda: loadgen.h2_ok(port, 2), inst.proc, 15) is None:
        bench.registry.stop(inst.proc)
        tail = peers.log_tail(inst)
        return Row("haproxy", label, unavailable=f"n/a (no h2c 200 from HAProxy{': ' + tail if tail else ''})")
    return Row("haproxy", label, port, inst)


def measure(bench, row, seconds):
    pids = row.pids()
    backend = bench.backend
    before = loadgen.backend_counters(backend.status_port)
    c0 = loadgen.proxy_counter(row.inst.admin_port, "proxy_upstream_connections_total", "cluster", row.cluster) \
        if row.cluster else None
    t0 = procs.cpu_ticks(pids)
    r = loadgen.h2load(f"http://127.0.0.1:{row.port}/", THREADS, CLIENTS, STREAMS, seconds)
    t1 = procs.cpu_ticks(pids)
    after = loadgen.backend_counters(backend.status_port)
    # Connections the target holds to the backend right after the run (pooled, now idle).
    held = procs.upstream_sockets(pids, backend.http_port if row.key == "proxy-h1" else backend.h2_port) \
        if row.key != "direct" else None
    c1 = loadgen.proxy_counter(row.inst.admin_port, "proxy_upstream_connections_total", "cluster", row.cluster) \
        if row.cluster else None
    r["upstream_held"] = held
    n = max(r["succeeded"], 1)
    r["cpu_us_per_req"] = procs.ticks_to_us(t1 - t0) / n if row.key != "direct" else None
    mem = procs.memory_kib(pids)
    r["rss_kib"] = mem["rss"] if row.key != "direct" else None
    if before and after:
        # The second status query's own connection is counted in "accepts": take it off.
        r["upstream_conns"] = after["accepts"] - before["accepts"] - 1
    if c0 is not None and c1 is not None:
        r["proxy_upstream_conns"] = c1 - c0
        r["proxy_upstream_conns_since_start"] = c1  # warm-up included
    if r["succeeded"]:
        r.pop("raw_tail", None)
    return r


def _median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _div(a, b):
    return a / b if a is not None and b else None


def summarize(rows, rounds):
    out = []
    for row in rows:
        if row.unavailable:
            out.append({"key": row.key, "label": row.label, "unavailable": row.unavailable})
            continue
        runs = rounds[row.key]

        def ratio(other):
            if other not in rounds:
                return None
            return _median([_div(r["rps"], o["rps"]) for r, o in zip(runs, rounds[other])])

        out.append({
            "key": row.key, "label": row.label, "runs": runs,
            "rps": _median([r["rps"] for r in runs]),
            "ratio_direct": ratio("direct"), "ratio_haproxy": ratio("haproxy"),
            "cpu_us_per_req": _median([r["cpu_us_per_req"] for r in runs]),
            "rss_kib": max((r["rss_kib"] or 0) for r in runs) or None,
            # Connections opened during one run, median over rounds (the client opens CLIENTS).
            "upstream_conns": _median([r.get("upstream_conns") for r in runs]),
            "proxy_upstream_conns": _median([r.get("proxy_upstream_conns") for r in runs]),
            "proxy_upstream_conns_since_start": max((r.get("proxy_upstream_conns_since_start") or 0) for r in runs) if row.cluster else None,
            "upstream_held": max((r.get("upstream_held") or 0) for r in runs) if row.key != "direct" else None,
            "requests": sum(r["succeeded"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
        })
    return out
