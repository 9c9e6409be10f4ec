"""What the mesh scenario runs, inside two network namespaces joined by a veth pair.

Server namespace: the HTTP/1.1 app (nginx, 1 KiB answers) and the gRPC app (bench/GrpcPeer), each on
a meshed port and on a direct port; the server sidecar (inbound, strict mTLS); the server-side
HAProxy (mTLS termination). Client namespace: the client sidecar (outbound), the client-side
HAProxy, and the load generator as the app (uid APP_UID). `proxy init` writes the interception
rules in both namespaces: the app's connections to the meshed ports go through the two sidecars;
the direct ports and HAProxy's TLS ports are excluded, so the other set-ups bypass the sidecars.
"""

import os
import struct

import netns
import peers
import procs

APP_UID = 65534  # the client app (h2load): the rules redirect its connections; the proxies run as root (uid 0)
SERVER = netns.SERVER_ADDRESS
# Ports inside the namespaces (each namespace has its own port space).
HTTP_PORT, HTTP_DIRECT_PORT = 8080, 8081
GRPC_PORT, GRPC_DIRECT_PORT = 50051, 50052
HOP_HTTP_PORT, HOP_GRPC_PORT = 8443, 8444                # server-side HAProxy, TLS
CLIENT_HOP_HTTP_PORT, CLIENT_HOP_GRPC_PORT = 18080, 18081  # client-side HAProxy, loopback of the client namespace
GRPC_PATH = "/bench.Echo/Ping"
CLIENT_ID = "spiffe://bench.local/ns/bench/sa/bench-client"
SERVER_ID = "spiffe://bench.local/ns/bench/sa/bench-server"
SERVER_NAME = "bench-server.bench.local"  # DNS name in the server certificate, which HAProxy's verifyhost checks
GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")

# (set-up, protocol) -> URL the app calls.
URLS = {
    ("direct", "http1"): f"http://{SERVER}:{HTTP_DIRECT_PORT}/",
    ("mesh", "http1"): f"http://{SERVER}:{HTTP_PORT}/",
    ("haproxy", "http1"): f"http://127.0.0.1:{CLIENT_HOP_HTTP_PORT}/",
    ("direct", "grpc"): f"http://{SERVER}:{GRPC_DIRECT_PORT}{GRPC_PATH}",
    ("mesh", "grpc"): f"http://{SERVER}:{GRPC_PORT}{GRPC_PATH}",
    ("haproxy", "grpc"): f"http://127.0.0.1:{CLIENT_HOP_GRPC_PORT}{GRPC_PATH}",
}


class Topology:
    """Starts and checks everything; `stop()` ends every process it started (the caller removes the namespaces)."""

    def __init__(self, bench, pair):
        self.bench = bench
        self.pair = pair
        self.binary = os.path.join(bench.repo, "artifacts", "publish", "proxy")
        self.dir = os.path.join(bench.work_dir, "mesh")
        self.certs = os.path.join(self.dir, "certs")
        self.started = []
        self.sidecars = []   # client, server
        self.haproxies = []  # client, server
        self.grpc_unavailable = None
        self.haproxy_unavailable = None
        self.grpc_request = os.path.join(self.dir, "ping.bin")
        self.mesh_requests = 0  # requests h2load got an answer to through the sidecars

    # ---- building ------------------------------------------------------------------------------

    def build(self):
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o777)  # h2load runs as the app's uid and writes its request logs here
        self._certs()
        with open(self.grpc_request, "wb") as f:
            payload = b"ping-0123456789ab"  # a small request message; the reply is 1 KiB
            f.write(b"\x00" + struct.pack(">I", len(payload)) + payload)  # gRPC message framing: flag, length
        os.chmod(self.grpc_request, 0o644)
        self._init_rules()
        self._apps()
        self._sidecars()
        self._haproxies()

    def _certs(self):
        ca = os.path.join(self.certs, "ca")
        steps = [[self.binary, "certs", "ca", "--out", ca],
                 [self.binary, "certs", "issue", "--ca", ca, "--spiffe-id", CLIENT_ID, "--out", os.path.join(self.certs, "client")],
                 [self.binary, "certs", "issue", "--ca", ca, "--spiffe-id", SERVER_ID, "--dns", SERVER_NAME,
                  "--out", os.path.join(self.certs, "server")]]
        for argv in steps:
            code, text = netns.run(argv, timeout=30)
            if code != 0:
                raise RuntimeError(f"`proxy certs {argv[2]}` failed: {text.strip()[:200]}")
        for who in ("client", "server"):  # HAProxy wants the certificate and its key in one file
            d = os.path.join(self.certs, who)
            with open(os.path.join(d, "combined.pem"), "w") as f:
                for name in ("cert.pem", "key.pem"):
                    with open(os.path.join(d, name)) as part:
                        f.write(part.read())

    def _init_rules(self):
        """`proxy init` as docs/mesh.md runs it; the proxies run as root, so uid 0 is the excluded proxy uid."""
        p = self.pair
        p.must(p.client, [self.binary, "init", "--proxy-uid", "0",
                          "--exclude-outbound-ports", f"{HTTP_DIRECT_PORT},{GRPC_DIRECT_PORT}"])
        p.must(p.server, [self.binary, "init", "--proxy-uid", "0", "--exclude-inbound-ports",
                          f"{HTTP_DIRECT_PORT},{GRPC_DIRECT_PORT},{HOP_HTTP_PORT},{HOP_GRPC_PORT}"])

    def _apps(self):
        peers_ = self.bench.peers
        server = self.pair.exec_argv(self.pair.server, [])
        self.nginx = self._keep(peers_.start_nginx_in("mesh-app-nginx", "mesh-app-nginx.conf", {
            "MESH_PORT": HTTP_PORT, "DIRECT_PORT": HTTP_DIRECT_PORT, "BODY": peers.BODY}, server))
        if not os.path.exists(peers.grpc_peer_binary(self.bench.repo)):
            self.grpc_unavailable = "n/a (bench/GrpcPeer not built: dotnet build bench/GrpcPeer -c Release)"
            return
        self.grpc = self._keep(peers_.start_grpc_peer_in("mesh-app-grpc", [f"0.0.0.0:{GRPC_PORT}", f"0.0.0.0:{GRPC_DIRECT_PORT}"], server))

    def _sidecars(self):
        peers_ = self.bench.peers
        values = {"SERVER_IP": SERVER, "HTTP_PORT": HTTP_PORT, "GRPC_PORT": GRPC_PORT, "CERTS": self.certs, "SERVER_ID": SERVER_ID}
        for ns, name, template in ((self.pair.client, "mesh-sidecar-client", "proxy-mesh-client.yaml"),
                                   (self.pair.server, "mesh-sidecar-server", "proxy-mesh-server.yaml")):
            self.sidecars.append(self._keep(peers_.start_proxy_in(name, template, values, self.pair.exec_argv(ns, []))))
        for ns, inst in zip((self.pair.client, self.pair.server), self.sidecars):
            code, text = self.pair.exec(ns, [self.binary, "wait-ready", "--admin", "127.0.0.1:15000", "--timeout", "20s"], timeout=30)
            if code != 0:
                raise RuntimeError(f"the {inst.name} did not become ready: {text.strip()[:200]} {peers.log_tail(inst)}")

    def _haproxies(self):
        if not peers.tool_available("haproxy"):
            self.haproxy_unavailable = "n/a (haproxy not installed)"
            return
        values = {"SERVER_IP": SERVER, "SERVER_NAME": SERVER_NAME, "CERTS": self.certs,
                  "HOP_HTTP_PORT": HOP_HTTP_PORT, "HOP_GRPC_PORT": HOP_GRPC_PORT}
        server = dict(values, HTTP_PORT=HTTP_PORT, GRPC_PORT=GRPC_PORT)
        client = dict(values, HTTP_PORT=CLIENT_HOP_HTTP_PORT, GRPC_PORT=CLIENT_HOP_GRPC_PORT)
        for name, template, ns, v in (("mesh-haproxy-client", "haproxy-mesh-client.cfg", self.pair.client, client),
                                      ("mesh-haproxy-server", "haproxy-mesh-server.cfg", self.pair.server, server)):
            self.haproxies.append(self._keep(self.bench.peers.start_haproxy_config(name, template, v, self.pair.exec_argv(ns, []))))

    def _keep(self, inst):
        self.started.append(inst)
        return inst

    def stop(self):
        for inst in reversed(self.started):
            try:
                self.bench.registry.stop(inst.proc)
            except Exception as ex:  # keep stopping the others
                self.bench.log(f"mesh: could not stop {inst.name}: {ex}")
        self.started = []

    # ---- what the set-ups need -----------------------------------------------------------------

    def pids(self, setup):
        """The processes whose CPU a set-up's figure counts: both proxies of the chain."""
        insts = {"mesh": self.sidecars, "haproxy": self.haproxies}.get(setup, [])
        return [pid for inst in insts for pid in inst.pids()]

    def unavailable(self, setup, protocol):
        if protocol == "grpc" and self.grpc_unavailable:
            return self.grpc_unavailable
        if setup == "haproxy" and self.haproxy_unavailable:
            return self.haproxy_unavailable
        return None

    def answer(self, setup, protocol):
        """One request as the app through the set-up: None when it came back right, else what came back."""
        url = URLS[(setup, protocol)]
        argv = ["curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"]
        expected = "200 1024"
        if protocol == "grpc":
            argv += ["--http2-prior-knowledge", "-D", "-", "--data-binary", f"@{self.grpc_request}"]
            for h in GRPC_HEADERS:
                argv += ["-H", h]
            expected = "200 1029"  # 5 bytes of gRPC framing + the 1 KiB message
        code, text = self.pair.exec(self.pair.client, argv + [url], uid=APP_UID, timeout=10)
        tail = text.strip().splitlines()[-1] if text.strip() else ""
        if code == 0 and tail == expected and (protocol != "grpc" or "grpc-status: 0" in text):
            return None
        return f"curl exit {code}: {' '.join(text.split())[-160:] or 'no answer'}"

    def wait_answer(self, setup, protocol, timeout=20):
        """None once the set-up answers right (the gRPC app JIT-starts in a second or two), else the last answer."""
        last = ["not tried"]

        def ok():
            last[0] = self.answer(setup, protocol)
            return last[0] is None

        return None if procs.wait_until(ok, None, timeout, interval=0.25) is not None else last[0]

    def load_argv_prefix(self):
        return self.pair.exec_argv(self.pair.client, [], uid=APP_UID)

    def source_requests(self):
        """istio_requests_total with reporter="source" at the client sidecar: proof the app's calls went through it."""
        code, text = self.pair.exec(self.pair.client, ["curl", "-s", "-m", "3", "http://127.0.0.1:15000/metrics"])
        if code != 0:
            return None
        total = 0.0
        for line in text.splitlines():
            if line.startswith("istio_requests_total{") and 'reporter="source"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return int(total)

    def log_tails(self, setup):
        insts = {"mesh": self.sidecars, "haproxy": self.haproxies}.get(setup, []) + [self.nginx]
        return " | ".join(t for t in (peers.log_tail(i, 2) for i in insts) if t)[:300]
