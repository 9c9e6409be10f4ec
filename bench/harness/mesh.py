"""The mesh scenario (issue 14): what two sidecars of this proxy add to a call between two services.

Three set-ups in one run, in two network namespaces joined by a veth pair (meshtopology.py):
direct (the app called across the link), mesh (client sidecar by `proxy init` interception, mutual
TLS, server sidecar in front of the app) and haproxy (a client-side and a server-side HAProxy with
mutual TLS between them). For HTTP/1.1 and gRPC unary, at fixed request rates (open model, h2load
--rps): p50/p90/p99 latency per set-up, the latency added over direct, and the CPU per request of
the two proxies together (utime+stime from /proc over the measured run, divided by requests).
"""

import os
import statistics

import loadgen
import meshtopology
import netns
import peers
import procs

RATES = (1000, 5000)
CONNECTIONS = 16   # client connections per run, as in Istio's benchmark (more for HTTP/1.1 at high rates, below)
GRPC_STREAMS = 32  # streams allowed per gRPC connection: a due call never waits for a free stream
HELD_RATE = 0.95   # below this share of the asked rate, the set-up did not keep up and its latency is understated
POINT_WARMUP_S = 1  # before every measured run: pooled connections fresh, nothing idle-closed (none in --smoke)
SETUPS = (("direct", "direct (no proxy)"),
          ("mesh", "two sidecars of this proxy (mTLS)"),
          ("haproxy", "two HAProxy hops (mTLS)"))
PROTOCOLS = (("http1", "HTTP/1.1"), ("grpc", "gRPC unary"))
# Istio 1.20's published figure for its two sidecars (Envoy), 1,000 requests/s, 1 KiB, mutual TLS.
ISTIO = {"p90_ms": 0.228, "p99_ms": 0.298, "label": "Istio 1.20, two Envoy sidecars, 1,000 rps, HTTP/1.1, 1 KiB, mTLS",
         "source": "istio.io release-1.20 docs/ops/deployment/performance-and-scalability"}


def unavailable_reason(bench):
    why = netns.skip_reason()
    if why:
        return f"n/a ({why})"
    if not os.path.exists(os.path.join(bench.repo, "artifacts", "publish", "proxy")):
        return "n/a (artifacts/publish/proxy missing)"
    for tool in ("h2load", "nginx", "curl"):
        if not peers.tool_available(tool):
            return f"n/a ({tool} not installed: scripts/setup.sh installs it)"
    return None


def run(bench):
    out = {"rates": list(RATES), "grpc_streams": GRPC_STREAMS, "reference": ISTIO,
           "loadavg_at_start": os.getloadavg()[0], "tables": []}
    bench.results["mesh"] = out
    why = unavailable_reason(bench)
    if why:
        out["unavailable"] = why
        bench.log(f"mesh: {why}")
        return
    pair = netns.NetnsPair()
    topo = meshtopology.Topology(bench, pair)
    try:
        pair.create()
        bench.log(f"mesh: namespaces {pair.client} and {pair.server}; starting apps, sidecars and HAProxy")
        topo.build()
        measure(bench, topo, out)
    finally:
        topo.stop()
        pair.remove()
    out["loadavg_at_end"] = os.getloadavg()[0]


def measure(bench, topo, out):
    a = bench.args
    # --smoke proves the scenario runs (about half a minute): the first rate only, no warm-up before each point.
    rates = RATES[:1] if a.smoke else RATES
    point_warmup = 0 if a.smoke else POINT_WARMUP_S
    out["rates"] = list(rates)
    live, missing = {}, {}
    for proto, _ in PROTOCOLS:
        for setup, _ in SETUPS:
            why = topo.unavailable(setup, proto)
            if why is None:
                answer = topo.wait_answer(setup, proto)
                if answer is not None:
                    tail = topo.log_tails(setup)
                    why = f"n/a (no right answer through the set-up: {answer}{'; ' + tail if tail else ''})"
            if why:
                missing[(setup, proto)] = why
                bench.log(f"mesh {setup} {proto}: {why}")
            else:
                live.setdefault(proto, []).append(setup)
    source_before = topo.source_requests()
    bench.log(f"mesh warm-up: {a.warmup}s at {max(rates)}/s on every set-up")
    for proto, setups in live.items():
        for setup in setups:
            one_run(topo, setup, proto, max(rates), a.warmup, "warmup")
    runs = {}
    for rnd in range(a.rounds):
        for rate in rates:
            for proto, setups in live.items():
                order = setups[rnd % len(setups):] + setups[:rnd % len(setups)]
                for setup in order:
                    if point_warmup:
                        one_run(topo, setup, proto, rate, point_warmup, "warmup")  # not counted
                    pids = topo.pids(setup)
                    load = os.getloadavg()[0]
                    t0 = procs.cpu_ticks(pids)
                    r = one_run(topo, setup, proto, rate, a.duration, f"{setup}-{proto}-{rate}-{rnd}")
                    t1 = procs.cpu_ticks(pids)
                    r["loadavg"] = load
                    if "error" not in r and setup != "direct":
                        r["cpu_us_per_req"] = procs.ticks_to_us(t1 - t0) / max(r["succeeded"], 1)
                    runs.setdefault((proto, rate, setup), []).append(r)
                    bench.log(f"mesh round {rnd + 1}/{a.rounds} {proto} {rate}/s {setup}: " + (r["error"] if "error" in r else
                              f"p50 {r['p50_ms']:.3f} p90 {r['p90_ms']:.3f} p99 {r['p99_ms']:.3f} ms, "
                              f"{r.get('cpu_us_per_req', 0):.1f} us/req, {r['achieved_rps']:.0f}/s, errors {r['errors']}"))
    source_after = topo.source_requests()
    if source_before is not None and source_after is not None:
        out["client_sidecar_requests"] = source_after - source_before
        out["mesh_requests_sent"] = topo.mesh_requests
    out["point_warmup_s"] = point_warmup
    out["tables"] = summarize(live, missing, runs, rates)


def connections(proto, rate):
    """HTTP/1.1 has one request in flight per connection, and h2load sends a request that falls due on a busy
    connection only when it is free, without counting the wait: 16 connections per 1,250 requests/s (at least 16)
    keep every connection under 80 requests/s, 12.5 ms apart. gRPC multiplexes: 16 connections of 32 streams."""
    return CONNECTIONS if proto == "grpc" else max(CONNECTIONS, CONNECTIONS * (rate // 1250))


def one_run(topo, setup, proto, rate, seconds, tag):
    log = os.path.join(topo.dir, f"h2load-{tag}.tsv")
    grpc = proto == "grpc"
    r = loadgen.h2load_rate(topo.load_argv_prefix(), meshtopology.URLS[(setup, proto)], rate, connections(proto, rate), seconds, log,
                            h1=not grpc, streams=GRPC_STREAMS, data=topo.grpc_request if grpc else None,
                            headers=meshtopology.GRPC_HEADERS if grpc else ())
    if setup == "mesh":
        topo.mesh_requests += r.get("requests", 0)  # answered ones, checked against the client sidecar's own count
    return r


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(live, missing, runs, rates):
    """One table per protocol and rate: a row per set-up, medians over rounds; added = median of per-round differences."""
    tables = []
    for proto, proto_label in PROTOCOLS:
        for rate in rates:
            rows = []
            direct = runs.get((proto, rate, "direct"), [])
            for setup, label in SETUPS:
                if (setup, proto) in missing:
                    rows.append({"setup": setup, "label": label, "unavailable": missing[(setup, proto)]})
                    continue
                rs = runs.get((proto, rate, setup), [])
                ok = [r for r in rs if "error" not in r]
                if not ok:
                    reason = rs[0]["error"] if rs else "n/a (not measured)"
                    rows.append({"setup": setup, "label": label, "unavailable": reason})
                    continue
                row = {"setup": setup, "label": label, "runs": rs,
                       "requests": sum(r["succeeded"] for r in ok), "errors": sum(r["errors"] for r in ok),
                       "achieved_rps": _median([r["achieved_rps"] for r in ok]),
                       "cpu_us_per_req": _median([r.get("cpu_us_per_req") for r in ok]),
                       "loadavg": _median([r.get("loadavg") for r in ok])}
                for p in ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms"):
                    row[p] = _median([r[p] for r in ok])
                if setup != "direct" and direct:
                    for p in ("p50_ms", "p90_ms", "p99_ms"):
                        row["added_" + p] = _median([r[p] - d[p] for r, d in zip(rs, direct)
                                                     if "error" not in r and "error" not in d])
                row["rate_held"] = row["achieved_rps"] >= HELD_RATE * rate
                rows.append(row)
            tables.append({"protocol": proto, "protocol_label": proto_label, "rate": rate,
                           "connections": connections(proto, rate), "rows": rows})
    return tables


def verdicts(table):
    """Where the sidecars stand against Istio's published figure and HAProxy's two hops, as sentences."""
    rows = {r["setup"]: r for r in table["rows"] if "unavailable" not in r}
    mesh, ha = rows.get("mesh"), rows.get("haproxy")
    if not mesh or mesh.get("added_p90_ms") is None:
        return []
    out = []
    if not mesh["rate_held"]:
        out.append(f"the sidecars did not keep up with {table['rate']:,}/s ({mesh['achieved_rps']:.0f}/s): their latency "
                   "leaves out the requests h2load could not send on time")
    for p, name in (("p90_ms", "p90"), ("p99_ms", "p99")):
        added = mesh["added_" + p]
        line = f"{name}: sidecars add {added:+.3f} ms ({'below' if added < ISTIO[p] else 'above'} Istio's {ISTIO[p]:.3f}"
        if ha and ha.get("added_" + p) is not None:
            line += f"; {'below' if added < ha['added_' + p] else 'above'} HAProxy's {ha['added_' + p]:+.3f}"
        out.append(line + ")")
    return out
