"""A static file server for a built webvi site, bound to loopback.

It exists so that `webvi serve` and the tests serve the site the same way:
with the MIME types Pyodide needs (`application/wasm`, `text/javascript` for `.mjs`), no
caching (a rebuilt wheel keeps its file name), and optionally the strict CSP that webvi
pages are written to satisfy.
"""

from __future__ import annotations

import functools
import http.server
import logging
import sys
import threading
from pathlib import Path

log = logging.getLogger(__name__)

STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"

MIME_TYPES = {
    ".wasm": "application/wasm",
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".json": "application/json",
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".css": "text/css",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
}


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files from one directory with fixed MIME types and optional extra headers."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}
    extra_headers: dict[str, str] = {}

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        for name, value in self.extra_headers.items():
            self.send_header(name, value)
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class SiteServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server for a site directory; `url` is its root URL."""

    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A browser that closes a page mid-download resets its connections; that is routine.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionResetError, BrokenPipeError)):
            log.debug("client %s closed the connection: %s", client_address[0], error)
            return
        super().handle_error(request, client_address)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name=f"webvi-site-{self.server_address[1]}", daemon=True)
        thread.start()
        return thread


def make_site_server(
    directory: Path, host: str = "127.0.0.1", port: int = 0, csp: str | None = None
) -> SiteServer:
    """Create (but do not start) a server for directory; port 0 picks a free port."""
    directory = Path(directory)
    if not (directory / "index.html").is_file():
        raise FileNotFoundError(
            f"{directory} has no index.html; build the site first with `python build.py`."
        )
    headers = {"Content-Security-Policy": csp} if csp else {}
    handler = type("BoundSiteRequestHandler", (SiteRequestHandler,), {"extra_headers": headers})
    return SiteServer((host, port), functools.partial(handler, directory=str(directory)))
