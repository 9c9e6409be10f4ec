"""System calls per request: `strace -c -f` on each target while h2load makes a fixed number of requests.

HTTP/1.1 keep-alive GETs of the 1 KiB body (`h2load --h1 -n N -c 32 -t 1`) through this proxy's L7
listener, HAProxy and nginx, one target at a time, with strace attached to every thread of the
target's processes for exactly that load. The count is what the target asks of the kernel per
request (both its sides: the client's connection and the backend's), independent of the machine's
speed or load, so it can be compared across runs; strace slows the target, so no time is reported.
"""

import os
import re
import signal
import subprocess
import time

import peers

CONNECTIONS = 32


def run(bench):
    """Fills bench.results["syscalls"]: per target, calls per request in total and per system call."""
    out = {"requests": 10_000 if bench.args.smoke else 100_000, "connections": CONNECTIONS, "rows": []}
    bench.results["syscalls"] = out
    for tool, package in (("strace", "strace"), ("h2load", "nghttp2-client")):
        if not peers.tool_available(tool):
            out["unavailable"] = f"n/a ({tool} not installed: apt-get install {package})"
            return
    for kind, label in (("proxy", "proxy (L7 http)"), ("haproxy", "HAProxy"), ("nginx", "nginx")):
        inst = bench.instances.get(kind)
        if not isinstance(inst, peers.Instance):
            out["rows"].append({"label": label, "unavailable": inst or f"n/a ({kind} not started)"})
            continue
        bench.log(f"syscalls: {label}, {out['requests']} requests under strace")
        out["rows"].append(dict(label=label, **measure(inst, inst.http_port, out["requests"], bench.work_dir, kind)))


def measure(inst, port, requests, work_dir, name):
    url = f"http://127.0.0.1:{port}/"
    warm = subprocess.run(["h2load", "--h1", "-n", "2000", f"-c{CONNECTIONS}", "-t1", url], capture_output=True, text=True, timeout=120)
    if " 0 failed" not in warm.stdout:
        return {"unavailable": "n/a (h2load warm-up failed)"}
    log = os.path.join(work_dir, f"strace-{name}.txt")
    argv = ["strace", "-c", "-f", "-o", log]
    for pid in inst.pids():
        argv += ["-p", str(pid)]
    tracer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # strace attaches to every thread before the load starts
    try:
        load = subprocess.run(["h2load", "--h1", "-n", str(requests), f"-c{CONNECTIONS}", "-t1", url],
                              capture_output=True, text=True, timeout=600)
    finally:
        tracer.send_signal(signal.SIGINT)
        tracer.wait(timeout=60)
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", load.stdout)
    if not done or int(done.group(2)) == 0:
        return {"unavailable": "n/a (h2load failed under strace)"}
    succeeded = int(done.group(2))
    calls = parse_summary(open(log).read()) if os.path.exists(log) else {}
    total = sum(calls.values())
    top = sorted(calls.items(), key=lambda kv: -kv[1])[:6]
    return {"succeeded": succeeded, "per_request": total / succeeded,
            "top": [(name, count / succeeded) for name, count in top]}


def parse_summary(text):
    """{syscall: calls} from strace -c's table (the rows between the dashed lines, without the total)."""
    calls = {}
    for line in text.splitlines():
        parts = line.split()
        # % time, seconds, usecs/call, calls, [errors], syscall
        if len(parts) >= 5 and re.fullmatch(r"[\d.]+", parts[0]) and parts[-1] != "total":
            try:
                calls[parts[-1]] = int(parts[3])
            except ValueError:
                continue
    return calls
