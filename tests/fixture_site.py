"""A small disaster-photo website on loopback, made by the tests with Pillow.

One ``ThreadingHTTPServer`` on 127.0.0.1, port 0, in a thread. It answers for two host names —
``127.0.0.1`` (the allowed site) and ``localhost`` (another host, by the ``Host`` header) — and
logs every request as ``(host, path)`` so a test can prove a URL was never fetched.
"""

from __future__ import annotations

import struct
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

__all__ = ["FixtureSite", "bomb_png", "photo", "encode"]


def photo(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A sharp, textured synthetic "photo": random shapes over noise; distinct per seed."""
    rng = np.random.default_rng(seed)
    w, h = size
    noise = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
    image = Image.fromarray(noise).resize(size, Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(image)
    for _ in range(25):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(4, max(5, w // 2))), y0 + int(rng.integers(4, max(5, h // 2)))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    return image


def encode(image: Image.Image, fmt: str, **kw) -> bytes:
    buf = BytesIO()
    image.save(buf, fmt, **kw)
    return buf.getvalue()


def blurred(image: Image.Image, radius: float = 8.0) -> Image.Image:
    return image.filter(ImageFilter.GaussianBlur(radius))


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A real decompression bomb: a 1-bit PNG of ``width`` × ``height`` zeros, ~100 KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@dataclass
class Route:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class FixtureSite:
    """Serve ``routes`` (path with query → :class:`Route`) until :meth:`close`."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.log: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                host = (self.headers.get("Host") or "").split(":")[0]
                site.log.append((host, self.path))
                route = site.routes.get(self.path, Route(404, b"not found", {"Content-Type": "text/plain"}))
                self.send_response(route.status)
                for k, v in route.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                self.wfile.write(route.body)

            def log_message(self, *args: object) -> None:
                pass  # the site keeps its own log

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def page(self, path: str, html: str) -> None:
        self.routes[path] = Route(200, html.encode("utf-8"), {"Content-Type": "text/html; charset=utf-8"})

    def file(self, path: str, body: bytes, content_type: str) -> None:
        self.routes[path] = Route(200, body, {"Content-Type": content_type})

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = Route(302, b"", {"Location": location})

    def fetched(self, host: str | None = None) -> list[str]:
        """Paths requested (from ``host`` only, if given)."""
        return [p for h, p in self.log if host is None or h == host]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
