"""Two network namespaces joined by a veth pair, for the mesh scenario; always removed.

The names carry the harness's pid, so runs (and the end-to-end tests' own namespaces) never
collide. Every name is written to BENCH_NETNS_FILE before it is created, so run-bench.sh's EXIT
trap deletes whatever an interrupted run left; remove() does the same in the orderly case.
Deleting a namespace also deletes the veth end inside it, and with it the pair.
"""

import os
import shutil
import subprocess

CLIENT_ADDRESS = "10.79.0.1"
SERVER_ADDRESS = "10.79.0.2"


def skip_reason():
    """Why namespaces cannot be made here (a sentence), or None."""
    if not os.path.exists("/proc/self/ns/net"):
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "the mesh scenario needs root (it creates network namespaces, a veth pair and iptables rules); run ./run-bench.sh --only mesh as root"
    for tool in ("ip", "iptables", "setpriv"):
        if shutil.which(tool) is None:
            return f"the mesh scenario needs `{tool}`, which is not installed"
    return None


def run(argv, timeout=60):
    """Runs a command, returns (exit code, stdout+stderr)."""
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return out.returncode, out.stdout + out.stderr
    except subprocess.TimeoutExpired:
        return 124, f"{' '.join(argv)} timed out after {timeout} s"
    except OSError as ex:
        return 127, f"{argv[0]}: {ex}"


class NetnsPair:
    """Client namespace (CLIENT_ADDRESS) and server namespace (SERVER_ADDRESS) on one veth link."""

    def __init__(self, tag=None):
        tag = tag or f"{os.getpid():x}"
        self.client = f"pxbench-c-{tag}"
        self.server = f"pxbench-s-{tag}"
        self.client_veth = f"pxbc{tag}"[:15]  # interface names are at most 15 bytes
        self.server_veth = f"pxbs{tag}"[:15]
        self.created = []

    def create(self):
        """Makes the namespaces and the link; raises RuntimeError with the failing command's output."""
        for ns in (self.client, self.server):
            self._record(ns)
            self._must(["ip", "netns", "add", ns])
            self.created.append(ns)
        self._must(["ip", "link", "add", self.client_veth, "type", "veth", "peer", "name", self.server_veth])
        self._must(["ip", "link", "set", self.client_veth, "netns", self.client])
        self._must(["ip", "link", "set", self.server_veth, "netns", self.server])
        for ns, dev, addr in ((self.client, self.client_veth, CLIENT_ADDRESS), (self.server, self.server_veth, SERVER_ADDRESS)):
            self._must(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", dev])
            self._must(["ip", "-n", ns, "link", "set", dev, "up"])
            self._must(["ip", "-n", ns, "link", "set", "lo", "up"])

    def exec_argv(self, ns, argv, uid=None):
        """argv run inside ns (as uid when given: the app's uid, which the interception rules catch)."""
        prefix = ["ip", "netns", "exec", ns]
        if uid is not None:
            prefix += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
        return prefix + list(argv)

    def exec(self, ns, argv, uid=None, timeout=60):
        return run(self.exec_argv(ns, argv, uid), timeout)

    def must(self, ns, argv, uid=None):
        self._must(self.exec_argv(ns, argv, uid))

    def remove(self):
        """Deletes both namespaces (and so the veth pair). Call after the processes inside have ended."""
        for ns in reversed(self.created):
            run(["ip", "netns", "del", ns])
        self.created = []

    @staticmethod
    def _must(argv):
        code, text = run(argv)
        if code != 0:
            raise RuntimeError(f"`{' '.join(argv)}` failed ({code}): {text.strip()[:300]}")

    @staticmethod
    def _record(ns):
        path = os.environ.get("BENCH_NETNS_FILE")
        if path:
            with open(path, "a") as f:
                f.write(ns + "\n")
