#!/usr/bin/env python3
"""Where a call through two proxies spends its time: one step per proxy and direction (needs root).

Builds the mesh scenario's namespaces (meshtopology.py), has the app make sequential HTTP/1.1 calls
(default 200, 20 ms apart) through each set-up, and captures every TCP packet with payload on both
namespaces' interfaces with kernel timestamps (AF_PACKET, SO_TIMESTAMPNS). Each call shows the same
four packets per namespace: request in, request out, response in, response out; their differences
are the steps. Python 3 standard library only; removes everything it made, also on Ctrl-C.

    sudo python3 bench/harness/meshsteps.py [--requests 200] [--interval 0.02]
"""

import argparse
import os
import select
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

SO_TIMESTAMPNS = 35
APP_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else "python3"  # readable by the app's uid
CLIENT = """
import http.client, sys, time
c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=5)
for i in range(int(sys.argv[3])):
    c.request('GET', '/'); r = c.getresponse(); r.read(); time.sleep(float(sys.argv[4]))
"""


def capture(seconds):
    """Prints 'ns-timestamp ifname src dst payload-length' for every TCP packet with payload (loopback once)."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    print("ready", flush=True)
    end, out = time.time() + seconds, []
    while time.time() < end:
        if not select.select([s], [], [], 0.2)[0]:
            continue
        data, anc, _, addr = s.recvmsg(65535, 64)
        if addr[1] != 0x0800 or (addr[0] == "lo" and addr[2] == socket.PACKET_OUTGOING):
            continue
        ts = next((struct.unpack("qq", v[:16]) for lvl, typ, v in anc if lvl == socket.SOL_SOCKET and typ == SO_TIMESTAMPNS), None)
        ip = data[14:]
        if ts is None or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        tcp = ip[ihl:]
        length = struct.unpack(">H", ip[2:4])[0] - ihl - (tcp[12] >> 4) * 4
        if length > 0:
            sp, dp = struct.unpack(">HH", tcp[:4])
            out.append(f"{ts[0] * 10**9 + ts[1]} {addr[0]} {socket.inet_ntoa(ip[12:16])}:{sp} {socket.inet_ntoa(ip[16:20])}:{dp} {length}")
    print("\n".join(out), flush=True)


def calls(pair, topo, host, port, requests, interval):
    """Captures in both namespaces while the app makes its calls; (client packets, server packets)."""
    import meshtopology
    seconds = requests * (interval + 0.01) + 3
    caps = []
    for ns in (pair.client, pair.server):
        p = subprocess.Popen(pair.exec_argv(ns, [sys.executable, "-B", os.path.abspath(__file__), "--capture", str(seconds)]),
                             stdout=subprocess.PIPE, text=True)
        p.stdout.readline()  # "ready"
        caps.append(p)
    code, text = pair.exec(pair.client, [APP_PYTHON, "-c", CLIENT, host, str(port), str(requests), str(interval)],
                           uid=meshtopology.APP_UID, timeout=seconds + 30)
    if code != 0:
        raise RuntimeError(f"the app's calls failed: {text.strip()[-300:]}")
    return [sorted(tuple(int(x) if i in (0, 4) else x for i, x in enumerate(line.split())) for line in p.communicate()[0].splitlines())
            for p in caps]


def group(packets, rules):
    """Calls as {step: first timestamp}, a new call at each packet of the first rule; incomplete calls dropped."""
    found, cur = [], None
    for t, ifname, src, dst, _ in packets:
        name = next((n for n, match in rules if match(ifname, src, dst)), None)
        if name == rules[0][0]:
            cur = {}
            found.append(cur)
        if name and cur is not None and name not in cur:
            cur[name] = t
    return [c for c in found if len(c) == len(rules)]


def steps(client, server, app_port, hop_port):
    """Per-call step durations (µs) for a two-proxy set-up: the app dials app_port, the proxies talk on hop_port."""
    end = lambda port: (lambda ip_port: ip_port.endswith(f":{port}"))  # noqa: E731
    c = group(client, [("in", lambda i, s, d: i == "lo" and end(app_port)(d)),
                       ("hop_out", lambda i, s, d: i != "lo" and end(hop_port)(d)),
                       ("hop_in", lambda i, s, d: i != "lo" and end(hop_port)(s)),
                       ("out", lambda i, s, d: i == "lo" and (end(app_port)(s) or end(hop_port)(s)))])
    s = group(server, [("hop_in", lambda i, s_, d: i != "lo" and end(hop_port)(d)),
                       ("app_out", lambda i, s_, d: i == "lo" and end(8080)(d)),
                       ("app_in", lambda i, s_, d: i == "lo" and end(8080)(s_)),
                       ("hop_out", lambda i, s_, d: i != "lo" and end(hop_port)(s_))])
    n = min(len(c), len(s))
    c, s = c[-n:], s[-n:]
    us = lambda a, b: (b - a) / 1000  # noqa: E731
    return {
        "client proxy, request": [us(x["in"], x["hop_out"]) for x in c],
        "server proxy, request": [us(y["hop_in"], y["app_out"]) for y in s],
        "app (nginx)": [us(y["app_out"], y["app_in"]) for y in s],
        "server proxy, response": [us(y["app_in"], y["hop_out"]) for y in s],
        "client proxy, response": [us(x["hop_in"], x["out"]) for x in c],
        "link, both ways": [us(x["hop_out"], y["hop_in"]) + us(y["hop_out"], x["hop_in"]) for x, y in zip(c, s)],
        "whole call": [us(x["in"], x["out"]) for x in c],
    }


def direct_steps(client, server, port):
    end = lambda ip_port: ip_port.endswith(f":{port}")  # noqa: E731
    c = group(client, [("out", lambda i, s, d: end(d)), ("in", lambda i, s, d: end(s))])
    s = group(server, [("in", lambda i, s_, d: end(d)), ("out", lambda i, s_, d: end(s_))])
    return {"app (nginx)": [(y["out"] - y["in"]) / 1000 for y in s], "whole call": [(x["in"] - x["out"]) / 1000 for x in c]}


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else None


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--interval", type=float, default=0.02, help="seconds between calls (default 0.02)")
    p.add_argument("--capture", type=float, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.capture:
        capture(a.capture)
        return 0
    import bench as harness
    import meshtopology
    import netns
    import procs
    why = netns.skip_reason()
    if why:
        print(f"meshsteps: {why}", file=sys.stderr)
        return 1
    args = harness.parse_args(["--only", "mesh", "--smoke"])
    registry = procs.Registry(os.environ.get("BENCH_PIDFILE"))
    work = tempfile.mkdtemp(prefix="proxy-meshsteps-")
    os.chmod(work, 0o755)
    pair = netns.NetnsPair(f"st{os.getpid():x}")
    topo = None
    try:
        b = harness.Bench(args, registry, work, work)
        topo = meshtopology.Topology(b, pair)
        pair.create()
        topo.build()
        results = {}
        for setup, host, port in (("direct", meshtopology.SERVER, meshtopology.HTTP_DIRECT_PORT),
                                  ("mesh", meshtopology.SERVER, meshtopology.HTTP_PORT),
                                  ("haproxy", "127.0.0.1", meshtopology.CLIENT_HOP_HTTP_PORT)):
            answer = topo.wait_answer(setup, "http1")
            if answer is not None:
                print(f"meshsteps: {setup} does not answer: {answer}", file=sys.stderr)
                continue
            client, server = calls(pair, topo, host, port, a.requests, a.interval)
            results[setup] = (direct_steps(client, server, port) if setup == "direct" else
                              steps(client, server, 15001 if setup == "mesh" else port,
                                    meshtopology.HTTP_PORT if setup == "mesh" else meshtopology.HOP_HTTP_PORT))
        names = list(results.get("mesh", results.get("haproxy", {})).keys())
        print(f"\n{a.requests} sequential HTTP/1.1 calls, {a.interval * 1000:g} ms apart; µs, p50 / p90; load average {os.getloadavg()[0]:.1f}\n")
        print("| step | two sidecars (this proxy) | two HAProxy hops | direct |\n|---|---|---|---|")
        for name in names:
            cells = []
            for setup in ("mesh", "haproxy", "direct"):
                v = results.get(setup, {}).get(name)
                cells.append(f"{pct(v, 0.5):.0f} / {pct(v, 0.9):.0f}" if v else "-")
            print(f"| {name} | " + " | ".join(cells) + " |")
        return 0
    finally:
        if topo is not None:
            topo.stop()
        pair.remove()
        registry.stop_all()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
