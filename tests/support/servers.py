"""Real HTTP servers on loopback for the tests, each started on a free port.

Servers are werkzeug's threaded WSGI server running in a background thread. Each helper
is a context manager that yields a `RunningServer` and shuts the server down on exit.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from webvi.server import make_site_server


class QuietRequestHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request, which floods test output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass(frozen=True)
class RunningServer:
    """A server started by a fixture: its base URL (with a trailing slash) and port."""

    url: str
    host: str
    port: int

    def origin(self) -> str:
        return self.url.rstrip("/")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a loopback port that was free a moment ago, so nothing listens there."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def wsgi_server(
    app: Callable,
    host: str = "127.0.0.1",
    url_host: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> Iterator[RunningServer]:
    """Serve a WSGI app on host:<free port> until the block ends.

    url_host is the name the URL uses (for example a `*.test` name that Chromium maps to
    127.0.0.1); it defaults to host.
    """
    server: BaseWSGIServer = make_server(
        host, 0, app, threaded=True, ssl_context=ssl_context, request_handler=QuietRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, name=f"test-server-{server.port}", daemon=True)
    thread.start()
    scheme = "https" if ssl_context else "http"
    try:
        yield RunningServer(url=f"{scheme}://{url_host or host}:{server.port}/", host=url_host or host, port=server.port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextlib.contextmanager
def site_server(directory: Path, csp: str | None = None) -> Iterator[RunningServer]:
    """Serve a built webvi site with `webvi.server`, as `webvi serve` does."""
    server = make_site_server(directory, csp=csp)
    server.serve_in_thread()
    host, port = server.server_address[:2]
    try:
        yield RunningServer(url=server.url, host=host, port=port)
    finally:
        server.shutdown()
        server.server_close()
