"""`webvi demo`: the site and httpbin on loopback, the printed URL, stopping and start failures.

Most tests run `python -m webvi demo` as a subprocess against the built dist/ and the
httpbin of .venv-httpbin/, and talk to it with urllib. No browser is involved.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from support.httpbin import httpbin_python
from webvi.cli import build_parser
from webvi.commands import demo

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
OPEN_PREFIX = "webvi demo: open "
LAST_INSTRUCTION = "Ctrl-C stops both servers."
STARTUP_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 30.0
EXAMPLE_DEFAULT_URL = "http://127.0.0.1:8001/cookies/set?station=bench-7"


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: Message
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# No proxies, so that requests stay on loopback, and no redirects, so that tests see them.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> Fetched:
    """Send one request and return the response, also for 3xx, 4xx and 5xx statuses."""
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Fetched(error.code, error.headers, error.read())


@dataclass(frozen=True)
class DemoRun:
    """A running `webvi demo` subprocess and what it printed up to its last instruction line."""

    process: subprocess.Popen[str]
    stdout_lines: list[str]
    stderr_path: Path

    @property
    def page_url(self) -> str:
        [line] = [line for line in self.stdout_lines if line.startswith(OPEN_PREFIX)]
        return line[len(OPEN_PREFIX) :]

    @property
    def site_port(self) -> int:
        return urllib.parse.urlsplit(self.page_url).port or 0

    @property
    def api_url(self) -> str:
        [api_url] = urllib.parse.parse_qs(urllib.parse.urlsplit(self.page_url).query)["url"]
        return api_url

    @property
    def api_base_url(self) -> str:
        parsed = urllib.parse.urlsplit(self.api_url)
        return f"{parsed.scheme}://{parsed.netloc}/"

    @property
    def api_port(self) -> int:
        return urllib.parse.urlsplit(self.api_url).port or 0

    def httpbin_pid(self) -> int:
        """Return the pid of the demo's only child process, httpbin (Linux /proc)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if not children.is_file():
            pytest.skip("needs Linux's /proc/PID/task/TID/children to find httpbin's pid")
        [pid] = children.read_text().split()
        return int(pid)


def require_dist() -> None:
    if not (DIST / "index.html").is_file():
        pytest.fail("dist/ is not built: run `python build.py` before these tests.")


def demo_command(*options: str) -> list[str]:
    return [sys.executable, "-m", "webvi", "demo", "--no-build", *options]


def read_instructions(process: subprocess.Popen[str]) -> list[str]:
    """Read stdout lines up to the last instruction line, failing after STARTUP_TIMEOUT_SECONDS."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: queue.Queue[str] = queue.Queue()

    def read_lines() -> None:
        for line in stdout:
            lines.put(line.rstrip("\n"))
        lines.put("")

    threading.Thread(target=read_lines, name="demo-stdout", daemon=True).start()
    received = []
    while True:
        try:
            line = lines.get(timeout=STARTUP_TIMEOUT_SECONDS)
        except queue.Empty:
            pytest.fail(f"webvi demo printed no instructions within {STARTUP_TIMEOUT_SECONDS:g} s: {received}")
        if not line and process.poll() is not None:
            pytest.fail(f"webvi demo exited with code {process.returncode} after printing {received}")
        received.append(line)
        if line.strip() == LAST_INSTRUCTION:
            return received


def stop_demo(process: subprocess.Popen[str], signal_number: int = signal.SIGINT) -> int:
    """Send signal_number to the demo and return its exit code, killing it after STOP_TIMEOUT_SECONDS."""
    if process.poll() is None:
        process.send_signal(signal_number)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"webvi demo ignored {signal.Signals(signal_number).name} for {STOP_TIMEOUT_SECONDS:g} s")
    return process.returncode


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator:
    """Return a function that starts `webvi demo` on free ports. Every demo it started is stopped at teardown."""
    require_dist()
    httpbin_python()
    processes: list[subprocess.Popen[str]] = []

    def start(*options: str) -> DemoRun:
        stderr_path = tmp_path / f"demo-{len(processes)}.stderr"
        with stderr_path.open("w") as stderr:
            process = subprocess.Popen(
                demo_command("--port", "0", "--api-port", "0", *options),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
        processes.append(process)
        return DemoRun(process=process, stdout_lines=read_instructions(process), stderr_path=stderr_path)

    yield start
    for process in processes:
        stop_demo(process)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def running_demo(start_demo) -> DemoRun:
    return start_demo()


def assert_port_closed(port: int) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


# A running demo


def test_demo_prints_one_open_line(running_demo: DemoRun) -> None:
    """The demo prints exactly one `webvi demo: open` line, followed by the steps to try."""
    output = "\n".join(running_demo.stdout_lines)

    assert [line for line in running_demo.stdout_lines if line.startswith(OPEN_PREFIX)] == [
        running_demo.stdout_lines[0]
    ]
    assert f"http://127.0.0.1:{running_demo.api_port}/cookies" in output
    assert "include credentials during CORS" in output


def test_demo_page_returns_html(running_demo: DemoRun) -> None:
    """The printed page URL is the credentialed GET example, served as HTML."""
    response = fetch(running_demo.page_url)

    assert urllib.parse.urlsplit(running_demo.page_url).path == "/examples/credentialed-get/"
    assert response.status == 200
    assert response.headers.get_content_type() == "text/html"


def test_demo_query_carries_api_url(running_demo: DemoRun) -> None:
    """With an API port other than 8001, the page URL's `url` query aims at the real httpbin."""
    assert running_demo.page_url.startswith(f"http://127.0.0.1:{running_demo.site_port}/")
    assert running_demo.api_port not in (0, 8001, running_demo.site_port)
    assert running_demo.api_url == f"http://127.0.0.1:{running_demo.api_port}/cookies/set?station=bench-7"


def test_demo_httpbin_cookies_set_redirects(running_demo: DemoRun) -> None:
    """httpbin's /cookies/set sets the cookie and redirects to /cookies with status 302."""
    response = fetch(running_demo.api_base_url + "cookies/set?x=1")

    assert response.status == 302
    assert response.headers["Location"] == "/cookies"
    assert response.headers["Set-Cookie"].startswith("x=1;")


def test_demo_httpbin_echoes_origin(running_demo: DemoRun) -> None:
    """httpbin echoes the page's Origin and allows credentials."""
    origin = f"http://127.0.0.1:{running_demo.site_port}"
    response = fetch(running_demo.api_base_url + "cookies", headers={"Origin": origin, "Cookie": "x=1"})

    assert response.status == 200
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert b'"x": "1"' in response.body


def test_demo_site_serves_wasm_type(running_demo: DemoRun) -> None:
    """The site serves .wasm files as application/wasm."""
    response = fetch(f"http://127.0.0.1:{running_demo.site_port}/pyodide/pyodide.asm.wasm", method="HEAD")

    assert response.status == 200
    assert response.headers["Content-Type"] == "application/wasm"


# Stopping


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_demo_stop_signal_closes_ports(start_demo, signal_number: int) -> None:
    """SIGINT or SIGTERM stops the demo with exit code 0, closes both ports and ends httpbin."""
    run = start_demo()
    httpbin_pid = run.httpbin_pid()

    exit_code = stop_demo(run.process, signal_number)
    stderr = run.stderr_path.read_text()

    assert exit_code == 0
    assert "Traceback" not in stderr
    assert_port_closed(run.site_port)
    assert_port_closed(run.api_port)
    assert not Path(f"/proc/{httpbin_pid}").exists()


def test_demo_httpbin_exit_stops_demo(start_demo) -> None:
    """When httpbin dies, the demo reports it with exit code 1 and closes the site."""
    run = start_demo()
    httpbin_pid = run.httpbin_pid()

    os.kill(httpbin_pid, signal.SIGKILL)
    exit_code = run.process.wait(timeout=STOP_TIMEOUT_SECONDS)
    stderr = run.stderr_path.read_text()

    assert exit_code == 1
    assert f"httpbin (pid {httpbin_pid}) exited with code -9" in stderr
    assert "Traceback" not in stderr
    assert_port_closed(run.site_port)


# Start failures


@pytest.mark.parametrize("option", ["--port", "--api-port"])
def test_demo_taken_port_exits_2(option: str) -> None:
    """A port that another socket listens on makes the demo exit 2, naming the port and option."""
    require_dist()
    httpbin_python()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other_option = "--api-port" if option == "--port" else "--port"
        result = subprocess.run(
            demo_command(option, str(port), other_option, "0"),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=STARTUP_TIMEOUT_SECONDS,
        )

    assert result.returncode == 2
    assert f"127.0.0.1:{port}" in result.stderr
    assert f"Choose another port with {option}" in result.stderr
    assert "Traceback" not in result.stderr
    assert OPEN_PREFIX not in result.stdout


@pytest.mark.parametrize("source", ["option", "environment"])
def test_demo_missing_httpbin_python_exits_2(tmp_path: Path, source: str) -> None:
    """A missing httpbin interpreter makes the demo exit 2 and name scripts/demo."""
    require_dist()
    missing = tmp_path / "missing" / "python"
    options = ["--httpbin-python", str(missing)] if source == "option" else []
    environment = {**os.environ, "WEBVI_HTTPBIN_PYTHON": str(missing)}
    result = subprocess.run(
        demo_command("--port", "0", "--api-port", "0", *options),
        cwd=ROOT,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=STARTUP_TIMEOUT_SECONDS,
    )

    assert result.returncode == 2
    assert str(missing) in result.stderr
    assert "scripts/demo" in result.stderr
    assert "install_httpbin" in result.stderr
    assert OPEN_PREFIX not in result.stdout


def parse_demo_options(*options: str):
    return build_parser().parse_args(["demo", *options])


def test_demo_installed_without_site_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without build.py or a built ./dist, the demo exits 2 and names the build command."""
    monkeypatch.chdir(tmp_path)

    with pytest.raises(demo.DemoError, match="python build.py") as raised:
        demo.run_demo(parse_demo_options(), project_root=tmp_path)

    assert raised.value.exit_code == 2


def test_demo_no_build_without_site_exits_2(tmp_path: Path) -> None:
    """In a checkout with --no-build and no dist/, the demo exits 2 without running build.py."""
    (tmp_path / "build.py").write_text("raise SystemExit('build.py must not run')\n")

    with pytest.raises(demo.DemoError, match="has no index.html") as raised:
        demo.run_demo(parse_demo_options("--no-build"), project_root=tmp_path)

    assert raised.value.exit_code == 2


def test_demo_build_failure_exits_1(tmp_path: Path) -> None:
    """A failing build.py makes the demo exit 1 with build.py's exit code."""
    (tmp_path / "build.py").write_text("raise SystemExit(3)\n")

    with pytest.raises(demo.DemoError, match="failed with exit code 3") as raised:
        demo.run_demo(parse_demo_options(), project_root=tmp_path)

    assert raised.value.exit_code == 1


def test_demo_build_runs_before_serving(tmp_path: Path) -> None:
    """The demo runs build.py first, then reads the example from the site it wrote."""
    (tmp_path / "build.py").write_text(
        "from pathlib import Path\n"
        "Path('dist').mkdir()\n"
        "Path('dist/index.html').write_text('<!doctype html>')\n"
    )

    with pytest.raises(demo.DemoError, match="credentialed-get.vi.json is missing"):
        demo.run_demo(parse_demo_options(), project_root=tmp_path)

    assert (tmp_path / "dist" / "index.html").is_file()


def process_ended(pid: int) -> bool:
    """Whether pid is gone or a zombie that only waits to be reaped."""
    status = Path(f"/proc/{pid}/status")
    try:
        return "\nState:\tZ" in status.read_text()
    except FileNotFoundError:
        return True


def test_demo_stop_during_build_ends_build(tmp_path: Path) -> None:
    """A stop signal during build.py ends build.py and the processes it started, with exit code 0."""
    if not Path(f"/proc/{os.getpid()}/status").is_file():
        pytest.skip("needs Linux's /proc to check that the build's processes ended")
    (tmp_path / "build.py").write_text(
        "import subprocess, sys, time\n"
        "from pathlib import Path\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "Path('child.pid').write_text(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    pid_file = tmp_path / "child.pid"

    def interrupt_once_started() -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_file.exists():
            os.kill(os.getpid(), signal.SIGINT)

    interrupter = threading.Thread(target=interrupt_once_started, name="interrupter", daemon=True)
    interrupter.start()
    started = time.monotonic()
    exit_code = demo.run_demo(parse_demo_options(), project_root=tmp_path)
    interrupter.join(timeout=STOP_TIMEOUT_SECONDS)
    child_pid = int(pid_file.read_text())
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while not process_ended(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert exit_code == 0
    assert time.monotonic() - started < 30
    assert process_ended(child_pid)


# URLs


def test_demo_page_url_default_port() -> None:
    """With httpbin on the control's default port, the page URL has no query."""
    api_url = demo.api_request_url(EXAMPLE_DEFAULT_URL, "http://127.0.0.1:8001/")

    assert api_url == EXAMPLE_DEFAULT_URL
    assert demo.example_page_url("http://127.0.0.1:8000/", api_url, EXAMPLE_DEFAULT_URL) == (
        "http://127.0.0.1:8000/examples/credentialed-get/"
    )


def test_demo_page_url_other_port() -> None:
    """With httpbin on another port, the page URL's query carries the encoded request URL."""
    api_url = demo.api_request_url(EXAMPLE_DEFAULT_URL, "http://127.0.0.1:9001/")
    page_url = demo.example_page_url("http://127.0.0.1:8000/", api_url, EXAMPLE_DEFAULT_URL)

    assert api_url == "http://127.0.0.1:9001/cookies/set?station=bench-7"
    assert page_url == (
        "http://127.0.0.1:8000/examples/credentialed-get/"
        "?url=http%3A%2F%2F127.0.0.1%3A9001%2Fcookies%2Fset%3Fstation%3Dbench-7"
    )


def test_demo_example_default_matches() -> None:
    """The example VI's URL control defaults to httpbin's /cookies/set on port 8001."""
    require_dist()

    assert demo.read_default_api_url(DIST) == EXAMPLE_DEFAULT_URL
