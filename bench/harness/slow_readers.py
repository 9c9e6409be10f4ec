#!/usr/bin/env python3
"""HTTP/2 slow readers: how much a proxy grows while HTTP/2 clients leave large responses unread, and whether the
memory comes back. Python 3 standard library only; everything on 127.0.0.1.

    python3 bench/harness/slow_readers.py artifacts/publish/proxy [--rounds 3] [--after 60]

Starts a raw-socket HTTP/1.1 upstream answering every request with a 1 MiB body, the proxy binary in front of it
(h2c listener, HTTP/1.1 cluster), and per round 2 connections x 100 streams (the proxy's stream limit) asking for
/big with prior knowledge, which read the socket but never send WINDOW_UPDATE (RFC 9113, 5.2: each stream and the
connection keep the initial 65,535-byte window). Prints the proxy's VmRSS idle (after one h2c warm-up request),
5 s into each round, and --after seconds after the last round, plus the buffer and GC gauges from /metrics.
"""
import argparse
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

BODY = b"x" * (1 << 20)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def upstream(listener):
    def serve(conn):
        with conn:
            buf = b""
            try:
                while True:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(65536)
                        if not data:
                            return
                        buf += data
                    _, buf = buf.split(b"\r\n\r\n", 1)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY)
            except OSError:
                pass

    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(index, value):  # HPACK literal without indexing, indexed name (RFC 7541, 6.2.2)
    return bytes([index, len(value)]) + value


REQUEST = b"\x82\x86" + literal(0x01, b"slow.test") + literal(0x04, b"/big")  # GET, http, :authority, :path


def unread_streams(port, connections, streams, hold):
    """Opens the connections, asks for the bodies, reads frames (acking SETTINGS), never grants window; closes after hold s."""
    sockets = []

    def drain(s):
        buf = b""
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return
                buf += data
                while len(buf) >= 9:
                    length = int.from_bytes(buf[:3], "big")
                    if len(buf) < 9 + length:
                        break
                    if buf[3] == 4 and not buf[4] & 1:
                        s.sendall(frame(4, 1, 0, b""))
                    buf = buf[9 + length:]
        except OSError:
            pass

    for _ in range(connections):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b"")
                  + b"".join(frame(1, 0x5, 1 + 2 * i, REQUEST) for i in range(streams)))
        threading.Thread(target=drain, args=(s,), daemon=True).start()
        sockets.append(s)
    return sockets


def close(sockets):
    for s in sockets:
        s.shutdown(socket.SHUT_RDWR)  # a plain close() leaves the socket open while the drain thread sits in recv()
        s.close()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--after", type=int, default=60, help="seconds to wait after the last round")
    args = ap.parse_args()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1024)
    threading.Thread(target=upstream, args=(listener,), daemon=True).start()
    port, admin = free_port(), free_port()
    folder = tempfile.mkdtemp(prefix="slow-readers-")
    config = os.path.join(folder, "proxy.yaml")
    with open(config, "w") as f:
        f.write(f"""admin: {{ address: 127.0.0.1:{admin} }}
log: {{ level: error }}
listeners:
  - name: web
    address: 127.0.0.1:{port}
    protocol: http
    routes: [ {{ match: {{ path_prefix: / }}, cluster: backend }} ]
clusters:
  - {{ name: backend, endpoints: [ 127.0.0.1:{listener.getsockname()[1]} ], protocol: http1 }}
""")
    proxy = subprocess.Popen([args.binary, "run", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{admin}/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        # Warm-up: one h2c request through the same paths, so first-use code pages are not counted as growth.
        warm = unread_streams(port, 1, 1, 0)
        time.sleep(1)
        close(warm)
        time.sleep(2)
        idle = rss_kib(proxy.pid)
        print(f"idle RSS {idle / 1024:.1f} MiB")
        for r in range(1, args.rounds + 1):
            sockets = unread_streams(port, 2, 100, 0)
            time.sleep(5)
            during = rss_kib(proxy.pid)
            print(f"round {r}: 200 unread 1 MiB streams, RSS {during / 1024:.1f} MiB, growth {(during - idle) / 1024:.1f} MiB")
            close(sockets)
            time.sleep(2)
        time.sleep(args.after)
        after = rss_kib(proxy.pid)
        print(f"{args.after} s after the last round: RSS {after / 1024:.1f} MiB, {(after - idle) / 1024:.1f} MiB above idle")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5).read().decode()
        for line in metrics.splitlines():
            if line.startswith(("proxy_buffer_pool", "proxy_gc_")):
                print("  " + line)
    finally:
        proxy.send_signal(signal.SIGKILL)
        proxy.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
