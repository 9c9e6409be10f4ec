"""Load generators: wrk (closed loop), curl (bulk download), the loadtests rate tool (open loop)."""

import http.client
import json
import os
import re
import subprocess
import time

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}
_SIZE = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


def wrk(url, threads, connections, seconds, headers=(), sample=None):
    """Runs wrk and returns its figures: requests, rps, bytes, errors, p50/p99 (ms, closed loop).

    sample, if given, is called about four times a second while wrk runs (memory under load).
    """
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + seconds + 60
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if sample is not None:
                sample()
            time.sleep(0.25)
        out, _ = proc.communicate(timeout=max(1, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:  # interrupted or hung: never leave a load generator behind
            proc.kill()
            proc.wait()
    return parse_wrk(out)


def parse_wrk(text):
    result = {"requests": 0, "rps": 0.0, "bytes": 0, "errors": 0, "non_2xx": 0, "socket_errors": 0,
              "p50_ms": None, "p99_ms": None, "raw_tail": text[-400:]}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+), ([\d.]+)(\w+) read", text)
    if m:
        result["requests"] = int(m.group(1))
        result["bytes"] = int(float(m.group(4)) * _SIZE.get(m.group(5), 1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if m:
        result["rps"] = float(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        result["socket_errors"] = sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        result["non_2xx"] = int(m.group(1))
    result["errors"] = result["socket_errors"] + result["non_2xx"]
    if result["requests"] == 0:
        result["errors"] += 1  # wrk failed outright; its output is kept in raw_tail
    for pct, key in (("50", "p50_ms"), ("99", "p99_ms")):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
        if m:
            result[key] = float(m.group(1)) * _UNITS[m.group(2)]
    return result


def curl_speed(url, timeout=120):
    """Download speed in bytes/s (curl's speed_download) and size; None if it failed."""
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "--max-time", str(timeout), "-w", "%{http_code} %{speed_download} %{size_download}", url],
        capture_output=True, text=True, timeout=timeout + 10)
    parts = out.stdout.split()
    if out.returncode != 0 or len(parts) != 3 or parts[0] != "200":
        return None
    return {"speed": float(parts[1]), "size": int(float(parts[2]))}


def backend_counters(status_port):
    """nginx stub_status: accepted connections and requests so far (the query itself counts once)."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", status_port, timeout=5)
        conn.request("GET", "/")
        text = conn.getresponse().read().decode()
        conn.close()
    except OSError:
        return None
    # "server accepts handled requests\n N N N"
    m = re.search(r"server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)", text)
    if not m:
        return None
    return {"accepts": int(m.group(1)), "requests": int(m.group(3))}


class RateTool:
    """The open-model latency generator in loadtests/Proxy.LoadTests, when this checkout has it."""

    def __init__(self, repo, log_dir):
        self.project = os.path.join(repo, "loadtests", "Proxy.LoadTests")
        self.log_dir = log_dir
        self.reason = None
        if not os.path.exists(os.path.join(self.project, "Proxy.LoadTests.csproj")):
            self.reason = "n/a (loadtests/Proxy.LoadTests not in this checkout)"
        self.built = False

    @property
    def available(self):
        return self.reason is None

    def build(self):
        if self.built or not self.available:
            return
        log = os.path.join(self.log_dir, "loadtests-build.log")
        with open(log, "w") as f:
            rc = subprocess.run(["dotnet", "build", self.project, "-c", "Release", "-nologo", "-v", "quiet"],
                                stdout=f, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            self.reason = f"n/a (loadtests build failed, see {log})"
        self.built = True

    def run(self, port, rps, seconds, tag):
        """{'p50_ms','p99_ms','p999_ms','sent','errors'} or {'error': reason}."""
        self.build()
        if not self.available:
            return {"error": self.reason}
        out_json = os.path.join(self.log_dir, f"rate-{tag}.json")
        argv = ["dotnet", "run", "--no-build", "-c", "Release", "--project", self.project, "--",
                "rate", "--url", f"http://127.0.0.1:{port}/", "--rps", str(rps), "--duration", f"{seconds}s",
                "--connections", "16", "--json", out_json]
        with open(os.path.join(self.log_dir, f"rate-{tag}.log"), "w") as f:
            try:
                rc = subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, timeout=seconds + 120).returncode
            except subprocess.TimeoutExpired:
                return {"error": "n/a (rate tool timed out)"}
        if rc != 0 or not os.path.exists(out_json):
            return {"error": f"n/a (rate tool exit {rc})"}
        with open(out_json) as f:
            return json.load(f)



def h2load(url, threads, clients, streams, seconds, timeout_extra=60):
    """Runs h2load (h2c with prior knowledge for http:// URLs) for a duration; its figures.

    Returns requests (done), succeeded, rps, errors (failed + errored + timeout + non-2xx).
    """
    argv = ["h2load", f"-t{threads}", f"-c{clients}", f"-m{streams}", f"-D{seconds}", url]
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + timeout_extra)
        text = out.stdout + out.stderr
    except subprocess.TimeoutExpired as ex:
        text = (ex.stdout or b"").decode(errors="replace") if isinstance(ex.stdout, bytes) else (ex.stdout or "")
        text += "\n(h2load timed out)"
    except OSError as ex:
        text = f"h2load: {ex}"
    return parse_h2load(text)


def parse_h2load(text):
    result = {"requests": 0, "succeeded": 0, "rps": 0.0, "errors": 0, "non_2xx": 0, "raw_tail": text[-400:]}
    m = re.search(r"finished in ([\d.]+)(\w+), ([\d.]+) req/s", text)
    if m:
        result["rps"] = float(m.group(3))
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
    if m:
        result["requests"] = int(m.group(3))
        result["succeeded"] = int(m.group(4))
        result["errors"] = int(m.group(5)) + int(m.group(6)) + int(m.group(7))
    m = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
    if m:
        result["non_2xx"] = int(m.group(2)) + int(m.group(3)) + int(m.group(4))
        result["errors"] += result["non_2xx"]
    if result["succeeded"] == 0:
        result["errors"] += 1  # h2load failed outright; its output is kept in raw_tail
    return result


def h2_ok(port, timeout=3):
    """True when one h2c prior-knowledge GET / on port answers 2xx (h2load -n1)."""
    try:
        out = subprocess.run(["h2load", "-n1", "-c1", f"http://127.0.0.1:{port}/"],
                             capture_output=True, text=True, timeout=timeout)
    except (subprocess.TimeoutExpired, OSError):
        return False
    return re.search(r"status codes: 1 2xx", out.stdout) is not None


def tls_handshakes(port, ca, cert, key, server_name, mode, seconds, workers=2, tls="1.3"):
    """New TLS connections per second against port from `workers` client processes (tlsloop.py).

    tls is the only version offered ("1.2" or "1.3"). mode "full": no session offered, every connection is a full handshake with the client
    certificate; "resumed": each connection offers the session (ticket) of the previous one.
    Returns {'conns', 'per_s', 'reused', 'errors'} summed over workers, or {'error': reason}.
    """
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tlsloop.py")
    argv = ["python3", "-B", script, "--port", str(port), "--ca", ca, "--cert", cert, "--key", key,
            "--server-name", server_name, "--mode", mode, "--seconds", str(seconds), "--tls", tls]
    procs_ = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(workers)]
    total = {"conns": 0, "per_s": 0.0, "reused": 0, "errors": 0}
    reasons = []
    for p in procs_:
        try:
            out, _ = p.communicate(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            reasons.append("client loop timed out")
            continue
        try:
            r = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            reasons.append((out or "no output").strip()[-200:])
            continue
        if "error" in r:
            reasons.append(r["error"])
            continue
        for k in total:
            total[k] += r[k]
    if reasons and total["conns"] == 0:
        return {"error": "n/a (" + "; ".join(reasons)[:300] + ")"}
    if reasons:
        total["note"] = "; ".join(reasons)[:300]
    return total


def proxy_counter(admin_port, family, label, value):
    """One counter of this proxy's admin /metrics, e.g. proxy_upstream_connections_total{cluster="x"}."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=5)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode(errors="replace")
        conn.close()
    except OSError:
        return None
    m = re.search(rf'^{re.escape(family)}\{{[^}}]*{re.escape(label)}="{re.escape(value)}"[^}}]*\}} ([\d.e+]+)', text, re.M)
    return int(float(m.group(1))) if m else None


def h2load_rate(prefix, url, rate, connections, seconds, log_path, h1=False, streams=32, data=None, headers=()):
    """Open-model latency: h2load sends `rate` requests/s in all (rate/connections on each connection) for `seconds`.

    prefix runs h2load somewhere else (`ip netns exec ...`). Latency comes from h2load's per-request log (from
    sending the request to the end of the response, in microseconds); returns requests, succeeded, errors,
    achieved rps, p50/p90/p99/p99.9/max in ms, or an 'error' reason when h2load measured nothing.
    """
    argv = list(prefix) + ["h2load", "-t1", f"-c{connections}", f"--rps={rate / connections:g}", f"-D{seconds}",
                           f"--log-file={log_path}"]
    argv += ["--h1"] if h1 else [f"-m{streams}"]
    if data is not None:
        argv.append(f"--data={data}")
    for h in headers:
        argv += ["-H", h]
    argv.append(url)
    try:
        if os.path.exists(log_path):
            os.remove(log_path)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        text = out.stdout + out.stderr
    except subprocess.TimeoutExpired:
        return {"error": "n/a (h2load did not finish in time)"}
    except OSError as ex:
        return {"error": f"n/a (h2load: {ex})"}
    r = parse_h2load(text)
    durations = []
    try:
        with open(log_path) as f:
            for line in f:
                cols = line.split("\t")
                if len(cols) >= 3 and cols[1].startswith("2"):
                    durations.append(int(cols[2]))
    except OSError:
        pass
    if not durations:
        return {"error": "n/a (h2load completed no request: " + " ".join(text.split())[-200:] + ")"}
    durations.sort()
    result = {"requests": r["requests"], "succeeded": r["succeeded"], "errors": r["errors"],
              "achieved_rps": len(durations) / seconds, "max_ms": durations[-1] / 1000}
    for name, p in (("p50_ms", 0.50), ("p90_ms", 0.90), ("p99_ms", 0.99), ("p999_ms", 0.999)):
        result[name] = percentile(durations, p) / 1000
    return result


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-int(p * 1000) * len(sorted_values) // 1000))  # ceil(p * n) without float error
    return sorted_values[min(rank, len(sorted_values)) - 1]
