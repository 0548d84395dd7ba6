"""Loopback servers for the alert tests: a well-behaved HTTP server with a request log, and a raw
TCP server that answers however a test says (reset connections, dripping bodies, short bodies)."""

from __future__ import annotations

import contextlib
import http.server
import socket
import socketserver
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: A route's answer: ``(body, content type)``, or a function of the request path giving one.
Answer = tuple[bytes, str]
Route = Answer | Callable[[str], Answer]


@dataclass
class Served:
    """A running server: its base ``url`` and the paths it was asked for, in order."""

    url: str
    requests: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return "127.0.0.1"


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[Served]:
    """An HTTP/1.0 server on 127.0.0.1 answering ``routes`` (path without query → answer); other
    paths get a 404. Each answer carries its ``Content-Length``."""
    served = Served("")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served.requests.append(self.path)
            route = routes.get(self.path.split("?")[0])
            if route is None:
                self.send_error(404)
                return
            body, kind = route(self.path) if callable(route) else route
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    with _serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler), served):
        yield served


def headers(length: int, content_type: str = "application/xml") -> bytes:
    """A 200 status line and headers announcing ``length`` body bytes."""
    return (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n").encode()


def reset(sock: socket.socket) -> None:
    """Close ``sock`` with a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


@contextmanager
def raw_server(respond: Callable[[socket.socket], None]) -> Iterator[Served]:
    """A TCP server on 127.0.0.1: reads each request's head, then ``respond(sock)`` writes whatever
    it likes (and may reset the connection); the socket is closed afterwards if still open."""
    served = Served("")

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                head += chunk
            served.requests.append(head.split(b" ", 2)[1].decode())
            with contextlib.suppress(OSError):  # the client gave up (as it should): nothing more to send
                respond(self.request)

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True

    with _serving(Server(("127.0.0.1", 0), Handler), served):
        yield served


@contextmanager
def _serving(server: socketserver.BaseServer, served: Served) -> Iterator[None]:
    """Run ``server`` in a thread while the block runs; its URL goes into ``served``."""
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
