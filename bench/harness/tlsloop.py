#!/usr/bin/env python3
"""One TLS client loop for the mTLS handshake figures; prints one JSON line.

Each connection: TCP connect, TLS handshake with the client certificate, one `GET /` with
`Connection: close`, read the whole response, close. The request proves the server accepted the
client certificate (in TLS 1.3 the client finishes its handshake before the server checked it),
and reading is what delivers the TLS 1.3 session ticket the next resumed connection offers.
"""

import argparse
import json
import socket
import ssl
import time

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


def one(ctx, port, server_name, session):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with ctx.wrap_socket(raw, server_hostname=server_name, session=session) as s:
            s.sendall(REQUEST)
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            ok = data.startswith(b"HTTP/1.1 200")
            return ok, s.session_reused, s.session


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--server-name", required=True)
    p.add_argument("--mode", choices=("full", "resumed"), required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--tls", choices=("1.2", "1.3"), default="1.3", help="the only TLS version offered")
    a = p.parse_args()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    version = ssl.TLSVersion.TLSv1_2 if a.tls == "1.2" else ssl.TLSVersion.TLSv1_3
    ctx.minimum_version = ctx.maximum_version = version
    try:
        ok, _, session = one(ctx, a.port, a.server_name, None)  # also the first session to resume
    except (OSError, ssl.SSLError) as ex:
        print(json.dumps({"error": f"first connection failed: {ex}"}))
        return
    if not ok:
        print(json.dumps({"error": "first connection: no 200"}))
        return
    conns = reused = errors = 0
    start = time.perf_counter()
    end = start + a.seconds
    while time.perf_counter() < end:
        offer = session if a.mode == "resumed" else None
        try:
            ok, was_reused, new_session = one(ctx, a.port, a.server_name, offer)
        except (OSError, ssl.SSLError):
            errors += 1
            continue
        if not ok:
            errors += 1
            continue
        conns += 1
        reused += 1 if was_reused else 0
        if a.mode == "resumed" and new_session is not None:
            session = new_session  # TLS 1.3 tickets may be single-use: offer the newest
    elapsed = time.perf_counter() - start
    print(json.dumps({"conns": conns, "per_s": conns / elapsed, "reused": reused, "errors": errors}))


if __name__ == "__main__":
    main()
