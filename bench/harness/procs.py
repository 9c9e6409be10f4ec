"""Processes the harness starts, and what /proc says about them.

Every process is started in its own session (so its process group id is its pid), recorded in a
pid file that run-bench.sh's EXIT trap also reads, and stopped by that pid: SIGTERM to its group,
then SIGKILL after a grace period.
"""

import os
import signal
import socket
import subprocess
import time

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Registry:
    """Started processes, newest last; stop_all() ends them in reverse order."""

    def __init__(self, pid_file):
        self.pid_file = pid_file
        self.procs = []

    def start(self, argv, log_path, env=None, cwd=None, pipes=False):
        """pipes: stdin and stdout are pipes the caller talks through (stderr still goes to the log)."""
        log = open(log_path, "ab")
        started_at = time.perf_counter()
        try:
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE if pipes else log, stderr=log if pipes else subprocess.STDOUT,
                stdin=subprocess.PIPE if pipes else subprocess.DEVNULL, env=env, cwd=cwd, start_new_session=True)
        finally:
            log.close()
        proc.started_at = started_at  # exec time, for startup measurements
        self.procs.append(proc)
        if self.pid_file:
            with open(self.pid_file, "a") as f:
                f.write(f"{proc.pid}\n")
        return proc

    def stop(self, proc, grace=5.0):
        if proc.poll() is None:
            _signal_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        # Children left in the group (nginx workers) go with the leader's group id.
        _signal_group(proc.pid, signal.SIGKILL)
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self):
        for proc in reversed(list(self.procs)):
            try:
                self.stop(proc)
            except Exception as ex:  # keep stopping the others; report what failed
                print(f"bench: could not stop pid {proc.pid}: {ex}")


def _signal_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def process_tree(root_pid):
    """The pid and all its descendants (nginx master + workers), from the ppid links in /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                rest = f.read().rpartition(")")[2].split()
        except OSError:
            continue
        children.setdefault(int(rest[1]), []).append(int(entry))
    tree, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_ticks(pids):
    """utime + stime, in clock ticks, summed over pids that still exist."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                rest = f.read().rpartition(")")[2].split()
            total += int(rest[11]) + int(rest[12])  # fields 14 and 15 of proc(5)
        except OSError:
            pass
    return total


def ticks_to_us(ticks):
    return ticks * 1_000_000 / CLOCK_TICKS


def memory_kib(pids):
    """{'rss': VmRSS, 'hwm': VmHWM} in KiB summed over pids (shared pages count once per process)."""
    out = {"rss": 0, "hwm": 0}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        out["rss"] += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        out["hwm"] += int(line.split()[1])
        except OSError:
            pass
    return out


def free_ports(count):
    """Ports the kernel hands out for port 0 on loopback; held together so they are distinct."""
    socks = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_get(port, path="/", timeout=1.0):
    """(status, body length) of a GET over a fresh connection, or None when nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    return int(parts[1]), len(body)


def http_status(port, path="/", timeout=0.5):
    """Status code of a GET, or None."""
    result = http_get(port, path, timeout)
    return None if result is None else result[0]


def wait_until(predicate, proc, timeout, interval=0.001):
    """Polls predicate until true; seconds waited, or None on timeout or if proc exited."""
    start = time.perf_counter()
    while True:
        if predicate():
            return time.perf_counter() - start
        if proc is not None and proc.poll() is not None:
            return None
        if time.perf_counter() - start > timeout:
            return None
        time.sleep(interval)


def upstream_sockets(pids, dport):
    """Established TCP connections owned by pids to 127.0.0.1:dport (ss -tnp), or None without ss."""
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", "dst", f"127.0.0.1:{dport}"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    wanted = {f"pid={p}," for p in pids}
    return sum(1 for line in out.splitlines() if any(w in line for w in wanted))
