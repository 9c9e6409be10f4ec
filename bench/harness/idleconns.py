"""Memory per idle keep-alive connection: RSS of each target with N client connections that made one request
each and now wait, against the same process idle; and whether that memory comes back after they close.

For this proxy (L7 http listener), HAProxy and nginx, each a fresh process started for the scenario (configs
`proxy.yaml`, `haproxy-idle.cfg`, `nginx-proxy-idle.conf`: the usual ones with connection limits above 10,000),
in front of the usual backend. Per target: RSS idle (after a few warm-up requests, so first-use code pages are
not counted), then for each N (1,000 and 10,000; 1,000 with --smoke, which also waits 5 s instead of 25 and 10 s instead of 60): open N connections, `GET /` on each (32 in
flight at a time) and read the 1 KiB answer, keep them open and wait SETTLE_S seconds, read RSS, close them all.
RSS per connection is (RSS with N idle - RSS idle) / N, summed over every process of the target. The wait lets
this proxy's idle trimmer (10 s period: two periods) and the collectors do what they do on an idle process.
`--proxy-before BINARY` adds a row for an earlier build of the proxy, measured the same way in the same run. Upstream
connections are the target's established connections to the backend while the N clients wait (ss). Finally the
RSS AFTER_S seconds after the target's last connections closed, against idle (issue 18: back within 10 MB).
Python 3 standard library only; everything on 127.0.0.1.
"""

import os
import resource
import socket
import time

import peers
import procs

BATCH = 32
SETTLE_S = 25
REQUEST = b"GET / HTTP/1.1\r\nHost: idle.bench\r\n\r\n"


def run(bench):
    """Fills bench.results["idleconns"]: per target and N, RSS per connection and upstream connections held."""
    smoke = bench.args.smoke
    counts = (1000,) if smoke else (1000, 10000)
    after_s = 10 if smoke else 60
    settle_s = 5 if smoke else SETTLE_S
    out = {"counts": list(counts), "settle_s": settle_s, "after_s": after_s, "batch": BATCH, "rows": []}
    bench.results["idleconns"] = out
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(counts) + 1024
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < need:
        counts = tuple(n for n in counts if n + 1024 <= soft)
        out["counts"] = list(counts)
        out["note"] = f"RLIMIT_NOFILE hard limit {hard} allows at most {soft - 1024} client connections"
    backend = bench.backend
    started = []
    kinds = [("proxy", "proxy (L7 http)"), ("haproxy", "HAProxy"), ("nginx", "nginx")]
    if getattr(bench.args, "proxy_before", None):
        kinds.insert(0, ("proxy-before", f"proxy before ({os.path.basename(bench.args.proxy_before)})"))
    for kind, label in kinds:
        inst, reason = start(bench, kind)
        if inst is None:
            out["rows"].append({"key": kind, "label": label, "unavailable": reason})
            continue
        started.append(inst)
        row = {"key": kind, "label": label, "points": []}
        out["rows"].append(row)
        for _ in range(64):  # warm-up: the request path's code and first buffers, before the idle figure
            procs.http_get(inst.http_port, "/", 2.0)
        time.sleep(2.0)
        row["idle_rss_kib"] = procs.memory_kib(inst.pids())["rss"]
        row["idle_gauges"] = gauges(inst)
        for n in counts:
            # HAProxy keeps a socket in reserve for the server side of each client connection: with a hard
            # RLIMIT_NOFILE of 20,000 (this machine) it takes 9,950 clients, so its 10,000 point is 9,900 connections.
            opened = min(n, haproxy_maxconn() - 50) if kind == "haproxy" else n
            point = measure(inst, opened, row["idle_rss_kib"], backend.http_port, settle_s)
            point["connections"] = n
            row["points"].append(point)
            bench.log(f"idleconns {label}: {n} idle connections, {point.get('per_conn_kib', 0):.2f} KiB each, "
                      f"{point.get('upstream_held')} upstream held, {point['failed']} failed")
        row["closed_at"] = time.monotonic()
    for row, inst in zip([r for r in out["rows"] if "unavailable" not in r], started):
        wait = row["closed_at"] + after_s - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        row["after_rss_kib"] = procs.memory_kib(inst.pids())["rss"]
        row["after_gauges"] = gauges(inst)
        del row["closed_at"]
        bench.log(f"idleconns {row['label']}: {after_s} s after closing, RSS {row['after_rss_kib'] / 1024:.1f} MiB "
                  f"(idle {row['idle_rss_kib'] / 1024:.1f} MiB)")
    for inst in started:
        bench.registry.stop(inst.proc)


def haproxy_maxconn():
    """HAProxy's maxconn: it needs two descriptors per connection (client and server side) within the hard fd limit."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 30000 if hard == resource.RLIM_INFINITY else min(30000, (hard - 100) // 2)


def start(bench, kind):
    """A fresh target process for this scenario: (Instance, None) or (None, reason)."""
    p = bench.peers
    port = procs.free_ports(1)[0]
    values = {"PORT": port, "BACKEND_PORT": bench.backend.http_port}
    if kind == "proxy":
        if not p.proxy_binary_exists():
            return None, "n/a (artifacts/publish/proxy missing)"
        inst = p.start_proxy_config("idle-proxy", "proxy.yaml", dict(values, TCP_PORT=procs.free_ports(1)[0]))
    elif kind == "proxy-before":
        binary = os.path.abspath(bench.args.proxy_before)
        if not os.path.exists(binary):
            return None, f"n/a ({binary} missing)"
        inst = p.start_proxy_config("idle-proxy-before", "proxy.yaml", dict(values, TCP_PORT=procs.free_ports(1)[0]), binary)
    elif kind == "haproxy":
        if not peers.tool_available("haproxy"):
            return None, "n/a (haproxy not installed)"
        inst = p.start_haproxy_config("idle-haproxy", "haproxy-idle.cfg", dict(values, MAXCONN=haproxy_maxconn()))
    else:
        inst = p.start_nginx_config("idle-nginx", "nginx-proxy-idle.conf", values)
    inst.http_port = port
    if procs.wait_until(lambda: procs.http_get(port, "/", 0.5) == (200, 1024), inst.proc, 30) is None:
        reason = f"n/a ({kind} did not start: {peers.log_tail(inst)})"
        bench.registry.stop(inst.proc)
        return None, reason
    return inst, None


def measure(inst, n, idle_kib, backend_port, settle_s):
    """Opens n keep-alive connections, one request each, waits, reads RSS; closes them. A dict of figures."""
    before = gauges(inst)
    socks, failed = [], 0
    t0 = time.monotonic()
    try:
        for first in range(0, n, BATCH):
            group = []
            for _ in range(min(BATCH, n - first)):
                try:
                    s = socket.create_connection(("127.0.0.1", inst.http_port), timeout=10)
                    s.sendall(REQUEST)
                    group.append(s)
                except OSError:
                    failed += 1
            for s in group:
                if read_response(s):
                    socks.append(s)
                else:
                    failed += 1
                    s.close()
        opened_s = time.monotonic() - t0
        time.sleep(settle_s)
        rss = procs.memory_kib(inst.pids())["rss"]
        held = procs.upstream_sockets(inst.pids(), backend_port)
        at_n = gauges(inst)
        # Every connection must still be open and answering after the wait: one more request on a sample of them
        # (a target that closed idle connections would show less memory for the wrong reason).
        alive = sum(1 for s in socks[:: max(1, len(socks) // 50)] if request_again(s))
        checked = len(socks[:: max(1, len(socks) // 50)])
    finally:
        for s in socks:
            s.close()
    point = {"connections": n, "open": len(socks), "failed": failed, "opened_s": round(opened_s, 2),
             "rss_kib": rss, "upstream_held": held, "alive_after_wait": f"{alive}/{checked}"}
    if socks:
        point["per_conn_kib"] = (rss - idle_kib) / len(socks)
    if before and at_n:
        point["gauges"] = at_n
        point["managed_heap_per_conn_bytes"] = (at_n.get("proxy_gc_heap_bytes", 0) - before.get("proxy_gc_heap_bytes", 0)) / max(len(socks), 1)
        point["allocated_per_conn_bytes"] = (at_n.get("proxy_gc_allocated_bytes", 0) - before.get("proxy_gc_allocated_bytes", 0)) / max(len(socks), 1)
    time.sleep(2.0)  # let the target see the closes before the next point
    return point


def read_response(s):
    """Reads one response (Content-Length framed) from s; True when it was a 200."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                return False
            body += chunk
        return head.startswith(b"HTTP/1.1 200")
    except (OSError, ValueError):
        return False


def request_again(s):
    try:
        s.sendall(REQUEST)
        return read_response(s)
    except OSError:
        return False


def gauges(inst):
    """This proxy's memory gauges from /metrics ({} for other targets or when the admin port does not answer)."""
    if inst.admin_port is None:
        return {}
    try:
        with socket.create_connection(("127.0.0.1", inst.admin_port), timeout=5) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return {}
    out = {}
    for line in data.decode(errors="replace").splitlines():
        if line.startswith(("proxy_buffer_pool", "proxy_gc_")):
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
    return out
