"""httpbin (PyPI 0.10.4) as a real server process on loopback.

httpbin handles credentialed CORS like a real service: it echoes the request's Origin
with `Access-Control-Allow-Credentials: true`. It cannot be imported into the test
process, because httpbin 0.10.4 pins greenlet<3.0 on Python < 3.12 while Playwright
needs greenlet>=3.1.1. So run_httpbin.py serves it with waitress from the virtual
environment .venv-httpbin/, which `install_httpbin` in scripts/common.sh creates.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import subprocess
import tempfile
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from support.servers import RunningServer

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SERVER_SCRIPT = Path(__file__).with_name("run_httpbin.py")
DEFAULT_PYTHON = ROOT / ".venv-httpbin" / "bin" / "python"
PYTHON_ENV_VAR = "WEBVI_HTTPBIN_PYTHON"
LISTENING_PREFIX = "LISTENING "
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


def httpbin_python() -> Path:
    """Return the interpreter that runs httpbin: $WEBVI_HTTPBIN_PYTHON or .venv-httpbin's.

    Raises RuntimeError when that interpreter is missing.
    """
    configured = os.environ.get(PYTHON_ENV_VAR)
    python = Path(configured) if configured else DEFAULT_PYTHON
    if not (python.is_file() and os.access(python, os.X_OK)):
        source = f"{PYTHON_ENV_VAR}={configured}" if configured else "the default"
        raise RuntimeError(
            f"httpbin's Python interpreter {python} ({source}) is missing. Run scripts/test, "
            f"or source scripts/common.sh and run install_httpbin, to create {DEFAULT_PYTHON.parent.parent}."
        )
    return python


@contextlib.contextmanager
def httpbin_server(host: str = "127.0.0.1") -> Iterator[RunningServer]:
    """Run httpbin on host:<free port> in a subprocess until the block ends."""
    python = httpbin_python()
    # stderr goes to a file, not a pipe, because the tests do not read it while httpbin
    # runs, and a full pipe would block the server.
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as stderr_log:
        process = subprocess.Popen(
            [str(python), str(SERVER_SCRIPT), "--host", host],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_log,
            text=True,
        )
        try:
            url = _read_listening_url(process, stderr_log)
            parsed = urllib.parse.urlsplit(url)
            yield RunningServer(url=url, host=parsed.hostname or host, port=parsed.port or 0)
        finally:
            _stop(process)


def _read_listening_url(process: subprocess.Popen[str], stderr_log: IO[str]) -> str:
    """Wait for run_httpbin.py's `LISTENING <url>` line and return the URL.

    Raises RuntimeError, with the process's stderr, when the line does not come within
    STARTUP_TIMEOUT_SECONDS or the process exits first.
    """
    assert process.stdout is not None
    stdout = process.stdout
    lines: queue.Queue[str] = queue.Queue()
    # readline() has no timeout, so a daemon thread reads and the queue waits.
    reader = threading.Thread(target=lambda: lines.put(stdout.readline()), name="httpbin-stdout", daemon=True)
    reader.start()

    try:
        line = lines.get(timeout=STARTUP_TIMEOUT_SECONDS)
    except queue.Empty:
        problem = f"timed out: no LISTENING line within {STARTUP_TIMEOUT_SECONDS:g} s"
    else:
        if line.startswith(LISTENING_PREFIX):
            return line[len(LISTENING_PREFIX) :].strip()
        if line:
            problem = f"printed {line.strip()!r} instead of a LISTENING line"
        else:
            problem = "exited before printing a LISTENING line"

    _stop(process)
    stderr_log.seek(0)
    raise RuntimeError(
        f"httpbin server ({SERVER_SCRIPT.name}, exit code {process.returncode}) {problem}. "
        f"Its stderr:\n{stderr_log.read()}"
    )


def _stop(process: subprocess.Popen[str]) -> None:
    """Terminate the process, and kill it if it is still running after STOP_TIMEOUT_SECONDS."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            logger.warning(
                "httpbin server (pid %d) still running %g s after SIGTERM, killing it",
                process.pid,
                STOP_TIMEOUT_SECONDS,
            )
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
