"""Start and stop PyPI's httpbin (0.10.4) as a server subprocess on loopback.

httpbin handles credentialed CORS like a real service: it echoes the request's Origin
with `Access-Control-Allow-Credentials: true`. `webvi demo` and the tests run it the
same way, through httpbin_runner.py under the Python of a virtual environment of its own
(.venv-httpbin/, which `install_httpbin` in scripts/common.sh creates). It cannot share
an environment with Playwright, because httpbin 0.10.4 pins greenlet<3.0 on
Python < 3.12 while Playwright needs greenlet>=3.1.1.

It runs on CPython only, because Pyodide cannot start subprocesses.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from webvi.httpbin_runner import EXIT_CANNOT_LISTEN, LISTENING_PREFIX

log = logging.getLogger(__name__)

RUNNER_SCRIPT = Path(__file__).with_name("httpbin_runner.py")
PYTHON_ENV_VAR = "WEBVI_HTTPBIN_PYTHON"
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class HttpbinStartError(RuntimeError):
    """httpbin did not start. The message includes its exit code and stderr."""


class HttpbinCannotListen(HttpbinStartError):
    """httpbin could not bind host:port, for example because the port is in use."""

    def __init__(self, message: str, host: str, port: int) -> None:
        super().__init__(message)
        self.host = host
        self.port = port


def configured_python(project_root: Path) -> tuple[Path, str]:
    """Return httpbin's interpreter and where that path came from, for messages.

    The interpreter is $WEBVI_HTTPBIN_PYTHON if set, else
    <project_root>/.venv-httpbin/bin/python.
    """
    configured = os.environ.get(PYTHON_ENV_VAR)
    if configured:
        return Path(configured), f"{PYTHON_ENV_VAR}={configured}"
    return project_root / ".venv-httpbin" / "bin" / "python", "the default"


def is_executable_file(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


@dataclass
class HttpbinProcess:
    """A running httpbin subprocess. `url` is its base URL with a trailing slash."""

    process: subprocess.Popen[str]
    url: str
    host: str
    port: int
    stderr_log: IO[str]

    def read_stderr(self) -> str:
        """Return everything httpbin wrote to stderr. Call it only after the process exited.

        The child shares this file's offset, so seeking to the start while it still
        writes would make it overwrite its earlier output.
        """
        self.stderr_log.seek(0)
        return self.stderr_log.read()

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Terminate httpbin, kill it if it still runs after timeout seconds, and close its files."""
        _stop_process(self.process, timeout)
        self.stderr_log.close()


def start_httpbin(
    python: Path, host: str = "127.0.0.1", port: int = 0, startup_timeout: float = STARTUP_TIMEOUT_SECONDS
) -> HttpbinProcess:
    """Start httpbin on host:port (0 picks a free port) and wait until it listens.

    Raises HttpbinCannotListen when the port cannot be bound, and HttpbinStartError, with
    httpbin's stderr, when it exits or prints no LISTENING line within startup_timeout
    seconds. httpbin runs in its own process group, so a Ctrl-C in the terminal reaches
    only the caller, which then stops httpbin with `stop()`.
    """
    # stderr goes to a file, not a pipe, because this process does not read it while
    # httpbin runs, and a full pipe would block the server.
    stderr_log = tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace")
    try:
        process = subprocess.Popen(
            [str(python), str(RUNNER_SCRIPT), "--host", host, "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr_log,
            text=True,
            process_group=0,
        )
    except BaseException:
        stderr_log.close()
        raise

    try:
        url = _read_listening_url(process, host, port, startup_timeout, stderr_log)
    except BaseException:
        # Also on KeyboardInterrupt, so that an interrupted start leaves no server behind.
        _stop_process(process, STOP_TIMEOUT_SECONDS)
        stderr_log.close()
        raise
    parsed = urllib.parse.urlsplit(url)
    log.debug("httpbin (pid %d) listens on %s", process.pid, url)
    return HttpbinProcess(
        process=process, url=url, host=parsed.hostname or host, port=parsed.port or 0, stderr_log=stderr_log
    )


def _read_listening_url(
    process: subprocess.Popen[str], host: str, port: int, timeout: float, stderr_log: IO[str]
) -> str:
    """Wait for the runner's `LISTENING <url>` line and return the URL."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: queue.Queue[str] = queue.Queue()
    # readline() has no timeout, so a daemon thread reads and the queue waits.
    reader = threading.Thread(target=lambda: lines.put(stdout.readline()), name="httpbin-stdout", daemon=True)
    reader.start()

    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        problem = f"timed out: no LISTENING line within {timeout:g} s"
    else:
        if line.startswith(LISTENING_PREFIX):
            return line[len(LISTENING_PREFIX) :].strip()
        if line:
            problem = f"printed {line.strip()!r} instead of a LISTENING line"
        else:
            problem = "exited before printing a LISTENING line"

    _stop_process(process, STOP_TIMEOUT_SECONDS)
    stderr_log.seek(0)
    stderr = stderr_log.read()
    if process.returncode == EXIT_CANNOT_LISTEN:
        # The runner's last stderr line is `cannot listen on HOST:PORT: REASON`.
        lines = stderr.strip().splitlines()
        detail = lines[-1] if lines else f"cannot listen on {host}:{port}"
        raise HttpbinCannotListen(f"httpbin {detail}", host=host, port=port)
    raise HttpbinStartError(
        f"httpbin server ({RUNNER_SCRIPT.name}, exit code {process.returncode}) {problem}. Its stderr:\n{stderr}"
    )


def _stop_process(process: subprocess.Popen[str], timeout: float) -> None:
    """Terminate the process, and kill it if it is still running after timeout seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("httpbin (pid %d) still running %g s after SIGTERM, killing it", process.pid, timeout)
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()
