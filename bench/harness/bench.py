#!/usr/bin/env python3
"""Side-by-side benchmark of this project's proxy against HAProxy, nginx and YARP.

Called by run-bench.sh after the builds; see docs/benchmarks.md for what each figure means.
Python 3 standard library only. Everything listens on 127.0.0.1, except the mesh scenario's
processes, which run inside two network namespaces of their own (mesh.py).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import http2
import idleconns
import loadgen
import mesh
import mtls
import peers
import procs
import report
import syscalls
import xdsscale

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

SCENARIOS = ("startup", "tcp", "http1-small", "http1-1m", "churn", "latency", "syscalls", "idleconns", "http2", "mtls", "mesh", "xdsscale")
GROUPS = {"http1": ("http1-small", "http1-1m", "churn", "latency")}

# HTTP/1.1 workloads: key, title, path, wrk connections, extra headers.
HTTP_WORKLOADS = (
    ("http1-small", "HTTP/1.1 keep-alive, 1 KiB responses", "/", 32, ()),
    ("http1-1m", "HTTP/1.1 keep-alive, 1 MiB responses", "/files/1m.bin", 16, ()),
    ("churn", "HTTP/1.1 connection churn (Connection: close)", "/", 32, ("Connection: close",)),
)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="run-bench.sh", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="1 round, 2 s runs, fewer repetitions (CI)")
    p.add_argument("--rounds", type=int, help="rounds per scenario (default 3, smoke 1)")
    p.add_argument("--duration", type=int, help="whole seconds per wrk run (default 10, smoke 2)")
    p.add_argument("--only", action="append", default=[],
                   help="startup|tcp|http1 (all HTTP/1.1 scenarios)|http1-small|http1-1m|churn|latency|syscalls|idleconns|http2|mtls|mesh|xdsscale; repeatable or comma-separated")
    p.add_argument("--rate", type=int, default=2000, help="requests/s for the open-model latency run (default 2000)")
    p.add_argument("--bulk-mib", type=int, default=1024, help="size of the TCP bulk file (default 1024 MiB)")
    p.add_argument("--proxy-before", metavar="BINARY",
                   help="an earlier build of the proxy, measured beside the current one in the idleconns scenario")
    p.add_argument("--xds-services", type=int, metavar="N",
                   help="services (10 endpoints each) the xdsscale scenario pushes (default 1000, smoke 50)")
    p.add_argument("--out", default=os.path.join(REPO, "results"), help="output directory (default results/)")
    p.add_argument("--keep-work", action="store_true", help="keep the temp dir with configs and peer logs")
    a = p.parse_args(argv)
    a.rounds = a.rounds or (1 if a.smoke else 3)
    a.duration = a.duration or (2 if a.smoke else 10)
    a.warmup = 1 if a.smoke else 3
    a.startup_reps = 3 if a.smoke else 7
    a.bulk_reps = 1 if a.smoke else 2
    selected = []
    for item in a.only:
        for name in item.split(","):
            name = name.strip()
            if name in GROUPS:
                selected.extend(GROUPS[name])
            elif name in SCENARIOS:
                selected.append(name)
            elif name:
                p.error(f"--only: unknown scenario {name!r}")
    a.scenarios = [s for s in SCENARIOS if not selected or s in selected]
    if a.rounds < 1 or a.duration <= 0:
        p.error("--rounds and --duration must be positive")
    return a


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def tool_version(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20)
        text = (out.stdout + out.stderr).strip().splitlines()
        return " ".join(text[0].split()[:3]) if text else "?"
    except (OSError, subprocess.SubprocessError):
        return "not installed"


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "commit": commit + (" (uncommitted changes)" if dirty else ""),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg()[0],
        "versions": {
            "haproxy": tool_version(["haproxy", "-v"]),
            "nginx": tool_version(["nginx", "-v"]),
            "wrk": tool_version(["wrk", "--version"]),
            "curl": tool_version(["curl", "--version"]),
            "dotnet": tool_version(["dotnet", "--version"]),
            "yarp": "Yarp.ReverseProxy 2.3.0 (JIT, workstation GC)",
        },
    }


def make_files(files_dir, bulk_mib, need_bulk):
    """1 MiB and the bulk file on tmpfs, so disk never limits the backend."""
    block = os.urandom(1024 * 1024)
    with open(os.path.join(files_dir, "1m.bin"), "wb") as f:
        f.write(block)
    if need_bulk:
        with open(os.path.join(files_dir, "bulk.bin"), "wb") as f:
            for _ in range(bulk_mib):
                f.write(block)
    for name in os.listdir(files_dir):
        os.chmod(os.path.join(files_dir, name), 0o644)


class Target:
    """A row of the HTTP tables: a label, the instance behind it and the port wrk hits."""

    def __init__(self, key, label, inst, port, unavailable=None):
        self.key = key
        self.label = label
        self.inst = inst
        self.port = port
        self.unavailable = unavailable  # reason text when the row cannot be measured

    def pids(self):
        return self.inst.pids() if self.inst is not None else []


class Bench:
    def __init__(self, args, registry, work_dir, files_dir):
        self.args = args
        self.registry = registry
        self.work_dir = work_dir
        self.files_dir = files_dir
        self.repo = REPO
        self.peers = peers.Peers(REPO, work_dir, registry)
        self.results = {"meta": machine_info(), "settings": {}, "proxy": {}, "startup": {}, "idle_rss_kib": {},
                        "http": {}, "latency": {}, "tcp": {}, "syscalls": {}, "idleconns": {}, "http2": {}, "mtls": {}, "mesh": {}, "xdsscale": {}}
        self.results["settings"] = {
            "mode": "smoke" if args.smoke else "full", "rounds": args.rounds, "duration_s": args.duration,
            "scenarios": args.scenarios, "wrk": "-t2 (connections per workload)", "rate_rps": args.rate,
            "bulk_mib": args.bulk_mib, "startup_reps": args.startup_reps, "bulk_reps": args.bulk_reps,
        }
        self.instances = {}

    def log(self, text):
        print(f"bench: {text}", flush=True)

    # ---- orchestration -------------------------------------------------------------------------

    def run(self):
        a = self.args
        binary = os.path.join(REPO, "artifacts", "publish", "proxy")
        self.results["proxy"]["binary"] = binary
        self.results["proxy"]["binary_bytes"] = os.path.getsize(binary) if os.path.exists(binary) else None
        make_files(self.files_dir, a.bulk_mib, "tcp" in a.scenarios)
        self.backend = self.peers.start_backend(self.files_dir)
        self.log(f"backend nginx on 127.0.0.1:{self.backend.http_port} (status :{self.backend.status_port})")

        if "startup" in a.scenarios:
            self.startup()
        http_keys = [s for s in a.scenarios if s.startswith("http1") or s in ("churn", "latency")]
        if http_keys or "tcp" in a.scenarios or "syscalls" in a.scenarios:
            self.start_targets(need_http=bool(http_keys) or "syscalls" in a.scenarios)
        if "tcp" in a.scenarios:
            self.tcp_bulk()
        if http_keys:
            self.http(http_keys)
        if "syscalls" in a.scenarios:
            self.guarded("syscalls", syscalls.run)
        # The idle-connection, HTTP/2, mTLS, mesh and xDS scale scenarios start their own processes and stop them when done; a
        # failure there becomes an n/a row with the reason, never a failed run.
        for key, module in (("idleconns", idleconns), ("http2", http2), ("mtls", mtls), ("mesh", mesh), ("xdsscale", xdsscale)):
            if key in a.scenarios:
                self.guarded(key, module.run)
        self.results["meta"]["loadavg_at_end"] = os.getloadavg()[0]
        return self.results

    def guarded(self, key, func):
        try:
            func(self)
        except Exception as ex:  # a broken scenario must not cost the rest of the report
            reason = f"n/a ({key} scenario failed: {type(ex).__name__}: {ex})"
            self.log(reason)
            block = self.results.setdefault(key, {})
            block["unavailable"] = reason

    def available_kinds(self, need_http):
        kinds = {}
        kinds["proxy"] = None if os.path.exists(os.path.join(REPO, "artifacts", "publish", "proxy")) else "n/a (artifacts/publish/proxy missing)"
        kinds["haproxy"] = None if peers.tool_available("haproxy") else "n/a (haproxy not installed)"
        if need_http:
            kinds["nginx"] = None
            kinds["yarp"] = None if os.path.exists(peers.yarp_binary(REPO)) else "n/a (bench/YarpPeer not built)"
        return kinds

    def start_targets(self, need_http):
        for kind, reason in self.available_kinds(need_http).items():
            if reason:
                self.log(f"{kind}: {reason}")
                self.instances[kind] = reason
                continue
            inst = self.peers.start(kind, self.backend.http_port)
            if inst.first_200_s is None:
                reason = f"n/a ({kind} did not start{': ' + inst.note if inst.note else ''})"
                self.log(reason)
                self.registry.stop(inst.proc)
                self.instances[kind] = reason
                continue
            self.instances[kind] = inst
            self.log(f"{kind} up (pid {inst.proc.pid}, http :{inst.http_port}, tcp :{inst.tcp_port}){' - ' + inst.note if inst.note else ''}")
        # Idle memory: after start, before any load, once start-up allocations settle.
        time.sleep(1.0)
        for kind, inst in self.instances.items():
            if isinstance(inst, peers.Instance):
                self.results["idle_rss_kib"][kind] = procs.memory_kib(inst.pids())["rss"]
        proxy = self.instances.get("proxy")
        if isinstance(proxy, peers.Instance):
            self.results["proxy"]["http_listener"] = "available" if proxy.http_available else "not available"

    def http_targets(self):
        def inst(kind):
            value = self.instances.get(kind)
            return (value, None) if isinstance(value, peers.Instance) else (None, value or f"n/a ({kind} not started)")

        targets = [Target("direct", "direct (no proxy)", self.backend, self.backend.http_port)]
        proxy, why = inst("proxy")
        if proxy is not None and proxy.http_available:
            targets.append(Target("proxy", "proxy (L7 http)", proxy, proxy.http_port))
        else:
            targets.append(Target("proxy", "proxy (L7 http)", None, None, why or "n/a (http listener not available)"))
        targets.append(Target("proxy-l4", "proxy (L4 tcp)", proxy, proxy.tcp_port if proxy else None, why))
        for kind, label in (("haproxy", "HAProxy"), ("nginx", "nginx"), ("yarp", "YARP")):
            i, why = inst(kind)
            targets.append(Target(kind, label, i, i.http_port if i else None, why))
        return targets

    # ---- scenarios -----------------------------------------------------------------------------

    def startup(self):
        a = self.args
        kinds = [k for k, reason in self.available_kinds(True).items() if reason is None]
        samples = {k: {"ready_ms": [], "first_200_ms": []} for k in kinds}
        self.log(f"startup: {a.startup_reps} starts each of {', '.join(kinds)}")
        for rep in range(a.startup_reps):
            order = kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]
            for kind in order:
                inst = self.peers.start(kind, self.backend.http_port)
                s = samples[kind]
                if inst.ready_s is not None:
                    s["ready_ms"].append(inst.ready_s * 1000)
                if inst.first_200_s is not None:
                    s["first_200_ms"].append(inst.first_200_s * 1000)
                if inst.note:
                    s["note"] = inst.note
                s["first_200_via"] = "http listener" if inst.http_available or kind != "proxy" else "tcp listener"
                self.registry.stop(inst.proc)
        for kind, s in samples.items():
            s["ready_ms_median"] = median(s["ready_ms"])
            s["first_200_ms_median"] = median(s["first_200_ms"])
        self.results["startup"] = samples
        if "proxy" in samples:
            self.results["proxy"]["exec_to_ready_ms"] = samples["proxy"]["ready_ms_median"]

    def measure_wrk(self, target, path, connections, headers, seconds):
        pids = target.pids()
        backend_pids = self.backend.pids()
        peak = {"rss": 0}

        def sample():
            rss = procs.memory_kib(pids)["rss"]
            peak["rss"] = max(peak["rss"], rss)

        before = loadgen.backend_counters(self.backend.status_port)
        t0, b0 = procs.cpu_ticks(pids), procs.cpu_ticks(backend_pids)
        r = loadgen.wrk(f"http://127.0.0.1:{target.port}{path}", 2, connections, seconds, headers, sample)
        t1, b1 = procs.cpu_ticks(pids), procs.cpu_ticks(backend_pids)
        after = loadgen.backend_counters(self.backend.status_port)
        mem = procs.memory_kib(pids)
        n = max(r["requests"], 1)
        r["cpu_us_per_req"] = procs.ticks_to_us(t1 - t0) / n if target.key != "direct" else None
        r["backend_cpu_us_per_req"] = procs.ticks_to_us(b1 - b0) / n
        r["rss_peak_kib"] = max(peak["rss"], mem["rss"])
        r["hwm_kib"] = mem["hwm"]
        if before and after:
            # The second status query's own connection is counted in "accepts": take it off.
            r["upstream_conns"] = after["accepts"] - before["accepts"] - 1
            r["upstream_conns_per_req"] = r["upstream_conns"] / n
        if r["requests"]:
            r.pop("raw_tail", None)  # keep wrk's output only when it measured nothing
        return r

    def http(self, keys):
        a = self.args
        targets = self.http_targets()
        live = [t for t in targets if not t.unavailable]
        self.log(f"warm-up: {a.warmup}s each on {', '.join(t.label for t in live)}")
        for t in live:
            loadgen.wrk(f"http://127.0.0.1:{t.port}/", 2, 32, a.warmup)
        for key, title, path, connections, headers in HTTP_WORKLOADS:
            if key not in keys:
                continue
            rounds = {t.key: [] for t in live}
            for rnd in range(a.rounds):
                order = live[rnd % len(live):] + live[:rnd % len(live)]
                for t in order:
                    r = self.measure_wrk(t, path, connections, headers, a.duration)
                    rounds[t.key].append(r)
                    cpu = f"{r['cpu_us_per_req']:.1f} us/req" if r["cpu_us_per_req"] is not None else "-"
                    self.log(f"{key} round {rnd + 1}/{a.rounds} {t.label}: {r['rps']:.0f} rps, {cpu}, errors {r['errors']}")
            self.results["http"][key] = {
                "title": title, "path": path, "connections": connections, "headers": list(headers),
                "rows": summarize_http(targets, rounds),
            }
        if "latency" in keys:
            self.latency(targets)

    def latency(self, targets):
        a = self.args
        tool = loadgen.RateTool(REPO, self.work_dir)
        out = {"rps": a.rate, "connections": 16, "rows": {}}
        if not tool.available:
            out["unavailable"] = tool.reason
            self.log(f"latency: {tool.reason}")
        else:
            for t in targets:
                if t.unavailable:
                    out["rows"][t.key] = {"label": t.label, "error": t.unavailable}
                    continue
                r = tool.run(t.port, a.rate, a.duration, t.key)
                r["label"] = t.label
                out["rows"][t.key] = r
                self.log(f"latency {t.label} @ {a.rate} rps: p50 {r.get('p50_ms')} p99 {r.get('p99_ms')} p99.9 {r.get('p999_ms')} ms {r.get('error', '')}")
        self.results["latency"] = out

    def tcp_bulk(self):
        a = self.args
        proxy, haproxy = self.instances.get("proxy"), self.instances.get("haproxy")
        targets = [("direct", "direct (no proxy)", self.backend, self.backend.http_port)]
        missing = {}
        for key, label, inst in (("proxy-l4", "proxy (L4 tcp)", proxy), ("haproxy", "HAProxy (mode tcp)", haproxy)):
            if isinstance(inst, peers.Instance):
                targets.append((key, label, inst, inst.tcp_port))
            else:
                missing[key] = {"label": label, "unavailable": inst or f"n/a ({key} not started)"}
        url = "http://127.0.0.1:{}/files/bulk.bin"
        per_round = {t[0]: [] for t in targets}
        self.log(f"tcp bulk: {a.bulk_mib} MiB x {a.bulk_reps} per target per round, {a.rounds} round(s)")
        for rnd in range(a.rounds):
            order = targets[rnd % len(targets):] + targets[:rnd % len(targets)]
            for key, label, inst, port in order:
                pids = inst.pids()
                t0 = procs.cpu_ticks(pids)
                speeds, size = [], 0
                for _ in range(a.bulk_reps):
                    r = loadgen.curl_speed(url.format(port))
                    if r is not None:
                        speeds.append(r["speed"])
                        size += r["size"]
                t1 = procs.cpu_ticks(pids)
                cpu_s_per_gib = (procs.ticks_to_us(t1 - t0) / 1e6) / (size / 2 ** 30) if size and key != "direct" else None
                per_round[key].append({"speed_Bps": median(speeds), "downloads": len(speeds),
                                       "cpu_s_per_gib": cpu_s_per_gib})
                self.log(f"tcp round {rnd + 1}/{a.rounds} {label}: {(median(speeds) or 0) / 2 ** 20:.0f} MiB/s")
        rows = []
        for key, label, inst, port in targets:
            row = {"key": key, "label": label, "rounds": per_round[key],
                   "speed_MiBps": _div(median([r["speed_Bps"] for r in per_round[key]]), 2 ** 20),
                   "ratio_direct": median([_div(r["speed_Bps"], d["speed_Bps"]) for r, d in zip(per_round[key], per_round["direct"])]),
                   "ratio_haproxy": median([_div(r["speed_Bps"], h["speed_Bps"]) for r, h in zip(per_round[key], per_round.get("haproxy", []))]) if "haproxy" in per_round else None,
                   "cpu_s_per_gib": median([r["cpu_s_per_gib"] for r in per_round[key]])}
            rows.append(row)
        for key, m in missing.items():
            rows.append({"key": key, "label": m["label"], "unavailable": m["unavailable"]})
        self.results["tcp"] = {"bulk_mib": a.bulk_mib, "rows": rows}


def _div(a, b):
    return a / b if a is not None and b else None


def summarize_http(targets, rounds):
    rows = []
    for t in targets:
        if t.unavailable:
            rows.append({"key": t.key, "label": t.label, "unavailable": t.unavailable})
            continue
        runs = rounds[t.key]

        def per_round_ratio(other):
            if other not in rounds:
                return None
            return median([_div(r["rps"], o["rps"]) for r, o in zip(runs, rounds[other])])

        rows.append({
            "key": t.key, "label": t.label, "runs": runs,
            "rps": median([r["rps"] for r in runs]),
            "mib_per_s": median([r["bytes"] / 2 ** 20 / max(r["requests"], 1) * r["rps"] for r in runs]),
            "ratio_direct": per_round_ratio("direct"),
            "ratio_haproxy": per_round_ratio("haproxy"),
            "cpu_us_per_req": median([r["cpu_us_per_req"] for r in runs]),
            "backend_cpu_us_per_req": median([r["backend_cpu_us_per_req"] for r in runs]),
            "rss_peak_kib": max(r["rss_peak_kib"] for r in runs),
            "hwm_kib": max(r["hwm_kib"] for r in runs),
            "upstream_conns_per_req": median([r.get("upstream_conns_per_req") for r in runs]),
            "upstream_conns": sum(r.get("upstream_conns", 0) for r in runs),
            "requests": sum(r["requests"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "wrk_p50_ms": median([r["p50_ms"] for r in runs]),
            "wrk_p99_ms": median([r["p99_ms"] for r in runs]),
        })
    return rows


def main(argv):
    args = parse_args(argv)
    sys.stdout.reconfigure(errors="backslashreplace")  # a non-UTF-8 terminal must not stop the report
    os.makedirs(args.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    work_dir = tempfile.mkdtemp(prefix="proxy-bench-")
    os.chmod(work_dir, 0o755)
    files_dir = tempfile.mkdtemp(prefix="proxy-bench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.chmod(files_dir, 0o755)
    registry = procs.Registry(os.environ.get("BENCH_PIDFILE"))

    def on_term(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    started = time.monotonic()
    ok = False
    try:
        bench = Bench(args, registry, work_dir, files_dir)
        results = bench.run()
        results["meta"]["elapsed_s"] = round(time.monotonic() - started, 1)
        base = os.path.join(args.out, f"bench-{stamp}")
        md = report.markdown(results)
        with open(base + ".json", "w") as f:
            json.dump(results, f, indent=2)
        with open(base + ".md", "w", encoding="utf-8") as f:
            f.write(md)
        with open(base + ".svg", "w", encoding="utf-8") as f:
            f.write(report.svg(results))
        print()
        print(md)
        print(f"bench: wrote {base}.md, {base}.json, {base}.svg ({results['meta']['elapsed_s']} s)")
        ok = True
    finally:
        registry.stop_all()
        shutil.rmtree(files_dir, ignore_errors=True)
        if ok and not args.keep_work:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print(f"bench: configs and peer logs kept in {work_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
