#!/usr/bin/env python3
"""Upstreams that say which one answered: COUNT listening sockets on 127.0.0.1 in one process, each answering every
HTTP/1.1 request (keep-alive) with 200 and its own port as the body. The scale benchmark (xdsscale.py) gives every
endpoint of every service a socket of its own, so an answer tells which endpoint the proxy picked; a move of a
cluster's endpoints shows in traffic as the first answer marked with a new port.

Prints one line, the ports as a JSON array, once every socket listens; then serves until stdin closes or SIGTERM.
Usage: markupstream.py COUNT. Python 3 standard library only.
"""

import asyncio
import json
import resource
import socket
import sys


class Marked(asyncio.Protocol):
    """One connection: answers each request head with the listening port; requests carry no body (GET)."""

    def __init__(self, answer):
        self.answer = answer
        self.buffer = b""
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 65536:
                    self.transport.close()
                return
            self.buffer = self.buffer[end + 4:]
            self.transport.write(self.answer)


async def main(count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < count + 1024:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loop = asyncio.get_running_loop()
    ports, servers = [], []
    for _ in range(count):
        # Bound first: the answer names the port, which is known only once the kernel picked it.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        port = sock.getsockname()[1]
        body = str(port).encode()
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n%s" % (len(body), body)
        servers.append(await loop.create_server((lambda a: lambda: Marked(a))(answer), sock=sock))
        ports.append(port)
    sys.stdout.write(json.dumps(ports) + "\n")
    sys.stdout.flush()
    await loop.run_in_executor(None, sys.stdin.buffer.read)  # until the harness closes stdin (or ends us)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
