"""mTLS between two sidecars versus plain TCP, and TLS handshake rates (full and resumed).

Two proxy processes on loopback: A (plain HTTP in) -> B -> the HTTP/1.1 backend. A has two
listeners: one whose cluster reaches B's TLS listener with a client certificate (mutual TLS), one
whose cluster reaches B's plain listener. wrk keep-alive on each chain gives the mTLS/plaintext
ratio. Handshakes: tlsloop.py clients open new TLS connections to B's TLS listener (and to HAProxy
terminating TLS with the same certificates, as a reference), full versus resumed.
"""

import os
import subprocess

import loadgen
import peers
import procs

CONNECTIONS = 32
SERVER_NAME = "b.bench.local"


def make_certs(binary, certs_dir):
    """A mesh CA and two workload certificates (A: client, B: server with DNS b.bench.local)."""
    steps = [
        [binary, "certs", "ca", "--out", os.path.join(certs_dir, "ca")],
        [binary, "certs", "issue", "--ca", os.path.join(certs_dir, "ca"), "--spiffe-id", "spiffe://bench.local/ns/a/sa/a",
         "--out", os.path.join(certs_dir, "a")],
        [binary, "certs", "issue", "--ca", os.path.join(certs_dir, "ca"), "--spiffe-id", "spiffe://bench.local/ns/b/sa/b",
         "--dns", SERVER_NAME, "--out", os.path.join(certs_dir, "b")],
    ]
    for argv in steps:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            return f"n/a (`proxy certs {argv[2]}` failed: {(out.stdout + out.stderr).strip()[:200]})"
    b = os.path.join(certs_dir, "b")
    with open(os.path.join(b, "combined.pem"), "w") as f:  # HAProxy wants cert and key in one file
        for name in ("cert.pem", "key.pem"):
            with open(os.path.join(b, name)) as part:
                f.write(part.read())
    return None


def run(bench):
    a = bench.args
    out = {"connections": CONNECTIONS, "chain": {"rows": []}, "handshakes": {"rows": []}}
    bench.results["mtls"] = out
    binary = os.path.join(bench.repo, "artifacts", "publish", "proxy")
    if not os.path.exists(binary):
        out["unavailable"] = "n/a (artifacts/publish/proxy missing)"
        return
    certs = os.path.join(bench.work_dir, "certs")
    why = make_certs(binary, certs)
    if why:
        out["unavailable"] = why
        return
    backend = bench.backend
    b_mtls, b_plain, a_mtls, a_plain = procs.free_ports(4)
    b = bench.peers.start_proxy_config("proxy-mtls-b", "proxy-mtls-b.yaml", {
        "PORT_MTLS": b_mtls, "PORT_PLAIN": b_plain, "BACKEND_PORT": backend.http_port, "CERTS": certs})
    a_inst = bench.peers.start_proxy_config("proxy-mtls-a", "proxy-mtls-a.yaml", {
        "PORT_MTLS": a_mtls, "PORT_PLAIN": a_plain, "B_MTLS_PORT": b_mtls, "B_PLAIN_PORT": b_plain, "CERTS": certs})
    stop = [a_inst, b]
    try:
        chain(bench, out["chain"], a_inst, b, a_plain, a_mtls)
        handshakes(bench, out["handshakes"], b, b_mtls, certs, stop)
    finally:
        for inst in stop:
            bench.registry.stop(inst.proc)


def _ready(port, proc, timeout):
    return procs.wait_until(lambda: procs.http_get(port, "/", 0.5) == (200, 1024), proc, timeout) is not None


def chain(bench, out, a_inst, b, a_plain, a_mtls):
    a = bench.args
    rows = [("plain", "A -> plain TCP -> B -> backend", a_plain), ("mtls", "A -> mTLS -> B -> backend", a_mtls)]
    live = []
    for key, label, port in rows:
        if _ready(port, a_inst.proc, 15):
            live.append((key, label, port))
        else:
            tail = peers.log_tail(a_inst) or peers.log_tail(b)
            out["rows"].append({"key": key, "label": label,
                                "unavailable": f"n/a (no 200 through the chain{': ' + tail if tail else ''})"})
            bench.log(f"mtls {label}: {out['rows'][-1]['unavailable']}")
    if not live:
        return
    pids = a_inst.pids() + b.pids()
    for _, _, port in live:
        loadgen.wrk(f"http://127.0.0.1:{port}/", 2, CONNECTIONS, a.warmup)
    rounds = {key: [] for key, _, _ in live}
    for rnd in range(a.rounds):
        order = live[rnd % len(live):] + live[:rnd % len(live)]
        for key, label, port in order:
            t0 = procs.cpu_ticks(pids)
            r = loadgen.wrk(f"http://127.0.0.1:{port}/", 2, CONNECTIONS, a.duration)
            t1 = procs.cpu_ticks(pids)
            r["cpu_us_per_req"] = procs.ticks_to_us(t1 - t0) / max(r["requests"], 1)
            if r["requests"]:
                r.pop("raw_tail", None)
            rounds[key].append(r)
            bench.log(f"mtls round {rnd + 1}/{a.rounds} {label}: {r['rps']:.0f} rps, "
                      f"{r['cpu_us_per_req']:.1f} us/req (A+B), errors {r['errors']}")
    for key, label, _ in live:
        runs = rounds[key]
        ratio = None
        if "plain" in rounds:
            ratio = _median([_div(r["rps"], p["rps"]) for r, p in zip(runs, rounds["plain"])])
        out["rows"].append({"key": key, "label": label, "runs": runs, "rps": _median([r["rps"] for r in runs]),
                            "ratio_plain": ratio, "cpu_us_per_req": _median([r["cpu_us_per_req"] for r in runs]),
                            "errors": sum(r["errors"] for r in runs),
                            "wrk_p50_ms": _median([r["p50_ms"] for r in runs]),
                            "wrk_p99_ms": _median([r["p99_ms"] for r in runs])})
    out["rows"].sort(key=lambda r: r["key"] != "plain")


def handshakes(bench, out, b, b_mtls, certs, stop):
    a = bench.args
    seconds = max(2, a.duration // 2) if not a.smoke else 2
    out["seconds"] = seconds
    targets = [("proxy", "this proxy (B's TLS listener)", b_mtls, b)]
    if peers.tool_available("haproxy"):
        (port,) = procs.free_ports(1)
        h = bench.peers.start_haproxy_config("haproxy-tls", "haproxy-tls.cfg", {
            "PORT": port, "BACKEND_PORT": bench.backend.http_port, "CERTS": certs})
        stop.append(h)
        if procs.wait_until(lambda: _tls_ok(port, certs), h.proc, 15) is not None:
            targets.append(("haproxy", "HAProxy (ssl, verify required)", port, h))
        else:
            tail = peers.log_tail(h)
            out["rows"].append({"key": "haproxy", "label": "HAProxy (ssl, verify required)",
                                "unavailable": f"n/a (HAProxy TLS did not answer{': ' + tail if tail else ''})"})
    else:
        out["rows"].append({"key": "haproxy", "label": "HAProxy", "unavailable": "n/a (haproxy not installed)"})
    client = os.path.join(certs, "a")
    for tls in ("1.3", "1.2"):
        for key, label, port, inst in targets:
            out["rows"].append(handshake_row(bench, key, f"{label}, TLS {tls}", port, inst, client, tls, seconds))
    out["rows"].sort(key=lambda r: r["key"] != "proxy")


def handshake_row(bench, key, label, port, inst, client, tls, seconds):
    row = {"key": key, "label": label, "tls": tls}
    for mode in ("full", "resumed"):
        pids = inst.pids()
        t0 = procs.cpu_ticks(pids)
        r = loadgen.tls_handshakes(port, os.path.join(client, "ca.pem"), os.path.join(client, "cert.pem"),
                                   os.path.join(client, "key.pem"), SERVER_NAME, mode, seconds, tls=tls)
        t1 = procs.cpu_ticks(pids)
        if "error" not in r:
            r["server_cpu_us_per_conn"] = procs.ticks_to_us(t1 - t0) / max(r["conns"], 1)
        row[mode] = r
        bench.log(f"mtls handshakes {label} {mode}: " + (r["error"] if "error" in r else
                  f"{r['per_s']:.0f}/s, reused {r['reused']}/{r['conns']}, "
                  f"server {r['server_cpu_us_per_conn']:.0f} us/conn, errors {r['errors']}"))
    full, resumed = row["full"], row["resumed"]
    if "error" not in full and "error" not in resumed:
        row["ratio"] = _div(resumed["per_s"], full["per_s"])
        row["cpu_ratio"] = _div(full.get("server_cpu_us_per_conn"), resumed.get("server_cpu_us_per_conn"))
    return row


def _tls_ok(port, certs):
    client = os.path.join(certs, "a")
    r = loadgen.tls_handshakes(port, os.path.join(client, "ca.pem"), os.path.join(client, "cert.pem"),
                               os.path.join(client, "key.pem"), SERVER_NAME, "full", 0.05, workers=1)
    return "error" not in r


def _median(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _div(a, b):
    return a / b if a is not None and b else None
