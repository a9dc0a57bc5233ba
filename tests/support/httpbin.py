"""httpbin (PyPI 0.10.4) as a real server process on loopback.

httpbin handles credentialed CORS like a real service: it echoes the request's Origin
with `Access-Control-Allow-Credentials: true`. It cannot be imported into the test
process, because httpbin 0.10.4 pins greenlet<3.0 on Python < 3.12 while Playwright
needs greenlet>=3.1.1. So webvi.httpbin starts runtime/webvi/httpbin_runner.py, which
serves it with waitress from the virtual environment .venv-httpbin/ that
`install_httpbin` in scripts/common.sh creates. `webvi demo` starts it the same way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from support.servers import RunningServer
from webvi.httpbin import configured_python, is_executable_file, start_httpbin

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 30.0


def httpbin_python() -> Path:
    """Return the interpreter that runs httpbin: $WEBVI_HTTPBIN_PYTHON or .venv-httpbin's.

    Raises RuntimeError when that interpreter is missing.
    """
    python, source = configured_python(ROOT)
    if not is_executable_file(python):
        raise RuntimeError(
            f"httpbin's Python interpreter {python} ({source}) is missing. Run scripts/test, "
            f"or source scripts/common.sh and run install_httpbin, to create {ROOT / '.venv-httpbin'}."
        )
    return python


@contextlib.contextmanager
def httpbin_server(host: str = "127.0.0.1") -> Iterator[RunningServer]:
    """Run httpbin on host:<free port> in a subprocess until the block ends.

    Raises RuntimeError when the interpreter is missing or httpbin does not start within
    STARTUP_TIMEOUT_SECONDS.
    """
    server = start_httpbin(httpbin_python(), host=host, startup_timeout=STARTUP_TIMEOUT_SECONDS)
    try:
        yield RunningServer(url=server.url, host=server.host, port=server.port)
    finally:
        server.stop()
