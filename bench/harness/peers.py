"""The backend and the targets: config files from bench/peers/, command lines, readiness.

A target is what the load generator talks to: `direct` (the backend itself), this project's proxy
(L7 http listener and L4 tcp listener), HAProxy, nginx as a proxy, and YARP.
"""

import os
import shutil
import time

import procs

BODY = ("0123456789abcdef" * 64)  # the fixed 1 KiB response body
assert len(BODY) == 1024

NGINX_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class Instance:
    """One started server: its process, ports, and how long it took to become usable."""

    def __init__(self, name, proc, http_port=None, tcp_port=None, admin_port=None):
        self.name = name
        self.proc = proc
        self.http_port = http_port
        self.tcp_port = tcp_port
        self.admin_port = admin_port
        self.ready_s = None        # exec -> /ready 200 (this project's proxy only)
        self.first_200_s = None    # exec -> first proxied 200
        self.http_available = True
        self.note = ""

    def pids(self):
        return procs.process_tree(self.proc.pid)


class Peers:
    """Renders configs into a private work dir and starts servers through the process registry."""

    def __init__(self, repo, work_dir, registry):
        self.repo = repo
        self.templates = os.path.join(repo, "bench", "peers")
        self.work_dir = work_dir
        self.registry = registry
        self.counter = 0
        self.proxy_http = None  # does the proxy's http listener forward? learnt on the first start

    # ---- helpers -------------------------------------------------------------------------------

    def _dir(self, name):
        self.counter += 1
        path = os.path.join(self.work_dir, f"{self.counter:02d}-{name}")
        os.makedirs(path)
        # nginx workers run as an unprivileged user when started as root: let them in.
        os.chmod(path, 0o777)
        return path

    def _render(self, template, out_path, values):
        with open(os.path.join(self.templates, template)) as f:
            text = f.read()
        for key, value in values.items():
            text = text.replace(f"@{key}@", str(value))
        if "@" in "".join(line.split("#")[0] for line in text.splitlines()):
            raise RuntimeError(f"{template}: unfilled placeholder")
        with open(out_path, "w") as f:
            f.write(text)
        return out_path

    def _nginx(self, name, template, values, prefix=()):
        d = self._dir(name)
        for t in NGINX_TEMP_DIRS:
            os.makedirs(os.path.join(d, t))
            os.chmod(os.path.join(d, t), 0o777)
        conf = self._render(template, os.path.join(d, "nginx.conf"), dict(values, DIR=d))
        argv = list(prefix) + ["nginx", "-p", d + "/", "-c", conf, "-e", os.path.join(d, "error.log")]
        return d, self.registry.start(argv, os.path.join(d, "stdout.log"))

    # ---- the backend ---------------------------------------------------------------------------

    def start_backend(self, files_dir):
        port, status_port, h2_port = procs.free_ports(3)
        d, proc = self._nginx("backend", "backend-nginx.conf", {
            "PORT": port, "STATUS_PORT": status_port, "H2_PORT": h2_port, "BODY": BODY, "FILES": files_dir})
        inst = Instance("backend", proc, http_port=port)
        inst.status_port = status_port
        inst.h2_port = h2_port  # h2c with prior knowledge only
        ok = procs.wait_until(lambda: procs.http_get(port) == (200, 1024), proc, 15)
        if ok is None:
            raise RuntimeError(f"backend nginx did not start; see {d}/error.log")
        return inst

    # ---- targets -------------------------------------------------------------------------------

    def start(self, kind, backend_port, wait=True):
        """Starts one target and, if wait, blocks until it proxies a request (or gives up)."""
        if kind == "proxy":
            inst = self._start_proxy(backend_port, "proxy.yaml")
        elif kind == "haproxy":
            inst = self._start_haproxy(backend_port)
        elif kind == "nginx":
            inst = self._start_nginx_proxy(backend_port)
        elif kind == "yarp":
            inst = self._start_yarp(backend_port)
        else:
            raise ValueError(kind)
        if not wait:
            return inst
        self._wait_ready(inst)
        if kind == "proxy" and inst.first_200_s is None and inst.proc.poll() is not None:
            # An older build may reject the http listener at config load: run the L4 listener alone.
            inst = self._start_proxy(backend_port, "proxy-tcp.yaml")
            inst.http_available = False
            inst.note = "config with an http listener was rejected; tcp listener only"
            self._wait_ready(inst)
        return inst

    def _wait_ready(self, inst):
        proc = inst.proc
        start = proc.started_at

        def proxied(port):
            return lambda: procs.http_get(port, "/", 0.5) == (200, 1024)

        if inst.admin_port is None:
            if procs.wait_until(proxied(inst.http_port), proc, 30) is not None:
                inst.first_200_s = time.perf_counter() - start
            return
        # This project's proxy: /ready first, then the first proxied 200 on the L7 port when that
        # answers HTTP (listeners are bound by then, so a short window is enough), else on the L4 port.
        if procs.wait_until(lambda: procs.http_status(inst.admin_port, "/ready") == 200, proc, 20) is None:
            inst.http_available = False
            inst.note = "did not become ready"
            return
        inst.ready_s = time.perf_counter() - start
        if inst.http_port and self.proxy_http is not False:
            if procs.wait_until(proxied(inst.http_port), proc, 3) is not None:
                inst.first_200_s = time.perf_counter() - start
                self.proxy_http = True
                return
        self.proxy_http = False
        inst.http_available = False
        inst.note = inst.note or "http listener not available"
        if procs.wait_until(proxied(inst.tcp_port), proc, 20) is not None:
            inst.first_200_s = time.perf_counter() - start

    def _start_proxy(self, backend_port, template):
        binary = os.path.join(self.repo, "artifacts", "publish", "proxy")
        port, tcp_port, admin_port = procs.free_ports(3)
        d = self._dir("proxy")
        conf = self._render(template, os.path.join(d, "proxy.yaml"), {
            "PORT": port, "TCP_PORT": tcp_port, "ADMIN_PORT": admin_port, "BACKEND_PORT": backend_port})
        proc = self.registry.start([binary, "run", "--config", conf], os.path.join(d, "proxy.log"))
        http_port = port if template == "proxy.yaml" else None
        return Instance("proxy", proc, http_port=http_port, tcp_port=tcp_port, admin_port=admin_port)

    def _start_haproxy(self, backend_port):
        port, tcp_port = procs.free_ports(2)
        d = self._dir("haproxy")
        conf = self._render("haproxy.cfg", os.path.join(d, "haproxy.cfg"), {
            "PORT": port, "TCP_PORT": tcp_port, "BACKEND_PORT": backend_port, "DIR": d})
        proc = self.registry.start(["haproxy", "-db", "-f", conf], os.path.join(d, "haproxy.log"))
        return Instance("haproxy", proc, http_port=port, tcp_port=tcp_port)

    def _start_nginx_proxy(self, backend_port):
        (port,) = procs.free_ports(1)
        _, proc = self._nginx("nginx", "nginx-proxy.conf", {"PORT": port, "BACKEND_PORT": backend_port})
        return Instance("nginx", proc, http_port=port)

    def _start_yarp(self, backend_port):
        exe = yarp_binary(self.repo)
        (port,) = procs.free_ports(1)
        d = self._dir("yarp")
        env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
        env.pop("ASPNETCORE_URLS", None)
        proc = self.registry.start(
            [exe, "--listen", f"127.0.0.1:{port}", "--backend", f"http://127.0.0.1:{backend_port}/"],
            os.path.join(d, "yarp.log"), env=env)
        return Instance("yarp", proc, http_port=port)


    # ---- HTTP/2 and mTLS scenarios: configs with several listeners, readiness checked by the caller

    def start_proxy_config(self, name, template, values, binary=None):
        """This proxy (or another build of it) with a scenario config; values gets ADMIN_PORT. Returns an Instance."""
        binary = binary or os.path.join(self.repo, "artifacts", "publish", "proxy")
        (admin_port,) = procs.free_ports(1)
        d = self._dir(name)
        conf = self._render(template, os.path.join(d, "proxy.yaml"), dict(values, ADMIN_PORT=admin_port))
        proc = self.registry.start([binary, "run", "--config", conf], os.path.join(d, "proxy.log"))
        inst = Instance(name, proc, admin_port=admin_port)
        inst.log_path = os.path.join(d, "proxy.log")
        return inst

    def proxy_binary_exists(self):
        return os.path.exists(os.path.join(self.repo, "artifacts", "publish", "proxy"))

    def start_nginx_config(self, name, template, values):
        """nginx as a proxy with a scenario config (values without DIR); the caller sets http_port and checks readiness."""
        d, proc = self._nginx(name, template, values)
        inst = Instance(name, proc)
        inst.log_path = os.path.join(d, "error.log")
        return inst

    def start_haproxy_config(self, name, template, values, prefix=()):
        """HAProxy with a scenario config (values without DIR); prefix runs it elsewhere (`ip netns exec NS`)."""
        d = self._dir(name)
        conf = self._render(template, os.path.join(d, "haproxy.cfg"), dict(values, DIR=d))
        proc = self.registry.start(list(prefix) + ["haproxy", "-db", "-f", conf], os.path.join(d, "haproxy.log"))
        inst = Instance(name, proc)
        inst.log_path = os.path.join(d, "haproxy.log")
        return inst

    # ---- the mesh scenario: everything runs inside network namespaces (prefix = `ip netns exec NS`)

    def start_proxy_in(self, name, template, values, prefix):
        """This proxy with a config whose admin port is fixed in it (a namespace has its own ports)."""
        binary = os.path.join(self.repo, "artifacts", "publish", "proxy")
        d = self._dir(name)
        conf = self._render(template, os.path.join(d, "proxy.yaml"), values)
        log = os.path.join(d, "proxy.log")
        inst = Instance(name, self.registry.start(list(prefix) + [binary, "run", "--config", conf], log))
        inst.log_path = log
        return inst

    def start_nginx_in(self, name, template, values, prefix):
        d, proc = self._nginx(name, template, values, prefix)
        inst = Instance(name, proc)
        inst.log_path = os.path.join(d, "error.log")
        return inst

    def start_grpc_peer_in(self, name, listens, prefix):
        """bench/GrpcPeer serving bench.Echo/Ping on every address in listens."""
        d = self._dir(name)
        env = dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1", DOTNET_NOLOGO="1")
        env.pop("ASPNETCORE_URLS", None)
        argv = list(prefix) + [grpc_peer_binary(self.repo)]
        for address in listens:
            argv += ["--listen", address]
        log = os.path.join(d, "grpc.log")
        inst = Instance(name, self.registry.start(argv, log, env=env))
        inst.log_path = log
        return inst


def log_tail(inst, lines=3):
    """The last lines of a started server's log, for an n/a reason."""
    path = getattr(inst, "log_path", None)
    try:
        with open(path, errors="replace") as f:
            text = f.read().strip().splitlines()
        return " / ".join(text[-lines:])[:300]
    except (OSError, TypeError):
        return ""


def yarp_binary(repo):
    return os.path.join(repo, "bench", "YarpPeer", "bin", "Release", "net10.0", "YarpPeer")


def grpc_peer_binary(repo):
    return os.path.join(repo, "bench", "GrpcPeer", "bin", "Release", "net10.0", "GrpcPeer")


def tool_available(name):
    return shutil.which(name) is not None
