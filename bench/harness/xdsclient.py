"""The two ends the xDS scale benchmark (xdsscale.py) talks to: tests/node/ads-server.js as a child process (the
management server, scripted over stdin/stdout), and a keep-alive HTTP/1.1 client for the proxy's listener.
Python 3 standard library only.
"""

import json
import os
import queue
import socket
import threading
import time

import procs


class AdsServer:
    """tests/node/ads-server.js as a child process: send() writes a response, wait_request() reads the proxy's requests."""

    def __init__(self, registry, script, protos, work):
        self.registry = registry
        self.port = procs.free_ports(1)[0]
        self.proc = registry.start(["node", script, f"--port={self.port}", f"--protos={protos}"],
                                   os.path.join(work, "ads-server.log"), pipes=True)
        self.events = queue.Queue()
        self.requests = []
        self.sent = queue.Queue()
        self.cond = threading.Condition()
        self.seen = set()
        threading.Thread(target=self._read, daemon=True).start()
        listening = self._next(self.events, 30)
        if listening.get("event") != "listening":
            raise RuntimeError(f"ads-server.js did not start: {listening}")

    def _read(self):
        for line in self.proc.stdout:
            event = json.loads(line)
            kind = event.get("event")
            if kind == "request":
                with self.cond:
                    self.requests.append(event)
                    self.cond.notify_all()
            elif kind == "sent" or (kind == "error" and "listening" in self.seen):
                self.sent.put(event)
            else:
                self.seen.add(kind)
                self.events.put(event)

    @staticmethod
    def _next(q, timeout):
        try:
            return q.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"ads-server.js said nothing for {timeout} s") from None

    def send(self, type_url, version, resources):
        """Sends one response; {'nonce', 't_ns' (when written), 'bytes' (the command's size)}."""
        line = json.dumps({"op": "send", "type_url": type_url, "version": version,
                           "resources": [{"name": r.get("name") or r.get("cluster_name"), "json": r} for r in resources]})
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        sent = self._next(self.sent, 60)
        if sent.get("event") == "error":
            raise RuntimeError(f"ads-server.js could not send: {sent.get('message')}")
        sent["bytes"] = len(line)
        sent["t_ns"] = int(sent["t_ns"])
        return sent

    def wait_request(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for event in self.requests:
                    if predicate(event["request"]):
                        return event
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"the proxy did not send the expected xDS request within {timeout} s")
                self.cond.wait(left)

    def ack_ms(self, sent):
        """Sent to the proxy's ACK (or NACK, which fails the scenario) of that response, in ms."""
        event = self.wait_request(lambda r: r.get("response_nonce") == sent["nonce"], 60)
        if event["request"].get("error_detail"):
            raise RuntimeError(f"the proxy NACKed a response: {event['request']['error_detail'].get('message')}")
        return (int(event["t_ns"]) - sent["t_ns"]) / 1e6

    def close(self):
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self.registry.stop(self.proc)


class KeepAlive:
    """One HTTP/1.1 keep-alive connection to the proxy; get() answers (status, body) or None (and reconnects next time)."""

    def __init__(self, port):
        self.port = port
        self.sock = None

    def get(self, host_name, timeout):
        try:
            if self.sock is None:
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.settimeout(timeout)
            self.sock.sendall(f"GET / HTTP/1.1\r\nHost: {host_name}\r\n\r\n".encode())
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            while len(body) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("closed")
                body += chunk
            status = int(head.split(b" ", 2)[1])
            if status != 200 or not body.isdigit():
                self.close()  # the proxy's own answers (404, 503) may close; start afresh
                return status, body.decode(errors="replace")
            return status, body.decode()
        except (OSError, ValueError, IndexError):
            self.close()
            return None

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
