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

