"""Build the site if needed, then serve the credentialed GET example with a local httpbin.

The site runs on 127.0.0.1:PORT and httpbin on 127.0.0.1:API_PORT, another origin, so
the example's GET is a cross-origin request that carries the browser's cookies only when
Configure CORS includes credentials. The command prints the page's URL and runs until
Ctrl-C (SIGINT) or SIGTERM.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import urllib.parse
from pathlib import Path
from types import FrameType

from webvi.cli import PROJECT_ROOT, port_number
from webvi.httpbin import (
    HttpbinCannotListen,
    HttpbinProcess,
    HttpbinStartError,
    configured_python,
    is_executable_file,
    start_httpbin,
)
from webvi.server import SiteServer, make_site_server

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# The example's URL control defaults to httpbin on this port.
DEFAULT_API_PORT = 8001
EXAMPLE_PATH = "examples/credentialed-get/"
EXAMPLE_VI = "credentialed-get.vi.json"
# The front panel reads a control's value from the page's query string, keyed by control id.
URL_CONTROL_ID = "url"
STDERR_TAIL_LINES = 40
STOP_TIMEOUT_SECONDS = 10.0
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class DemoError(Exception):
    """A failure that stops the demo. The message states what to do next, and exit_code is the exit status."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class StopRequested(Exception):
    """A stop signal (SIGINT, SIGTERM or SIGHUP) that arrived. The argument is the signal's name."""


class StopSignals:
    """Turn the first stop signal into StopRequested while the block runs.

    Later signals, and every signal after `ignore()`, are only logged, so that cleanup
    runs to the end. The previous handlers come back when the block ends.
    """

    def __init__(self) -> None:
        self.ignoring = False
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        for number in STOP_SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def ignore(self) -> None:
        self.ignoring = True

    def _handle(self, number: int, frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if self.ignoring:
            log.info("%s received while stopping, ignored", name)
            return
        self.ignoring = True
        raise StopRequested(name)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"TCP port of the site, 0 for any free port (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--api-port",
        type=port_number,
        default=DEFAULT_API_PORT,
        help=f"TCP port of httpbin, the API that the example calls, 0 for any free port (default: {DEFAULT_API_PORT})",
    )
    parser.add_argument(
        "--httpbin-python",
        type=Path,
        metavar="PATH",
        help="Python interpreter that has httpbin and waitress installed "
        "(default: $WEBVI_HTTPBIN_PYTHON, else the project's .venv-httpbin/bin/python)",
    )
    parser.add_argument(
        "--no-build", action="store_true", help="serve dist/ as it is, without running build.py first"
    )


def main(args: argparse.Namespace) -> int:
    try:
        return run_demo(args, PROJECT_ROOT)
    except DemoError as error:
        print(f"webvi demo: {error}", file=sys.stderr, flush=True)
        return error.exit_code


def run_demo(args: argparse.Namespace, project_root: Path) -> int:
    """Run the demo until a stop signal arrives, then return 0.

    Raises DemoError when the demo cannot start or httpbin exits on its own.
    """
    with StopSignals() as stop_signals:
        try:
            site = prepare_site(project_root, build=not args.no_build)
            default_api_url = read_default_api_url(site)
            python = select_httpbin_python(args.httpbin_python, project_root)
            serve_demo(site, default_api_url, python, args.port, args.api_port, stop_signals)
        except StopRequested as stop:
            log.info("%s received, stopped", stop)
    return 0


# --- before the servers start -----------------------------------------------------------


def prepare_site(project_root: Path, build: bool) -> Path:
    """Return the site directory, after running build.py in a source checkout unless build is False."""
    build_script = project_root / "build.py"
    if not build_script.is_file():
        # An installed webvi, not a source checkout: serve ./dist, as `webvi serve` does.
        site = Path("dist")
        if not (site / "index.html").is_file():
            raise DemoError(
                f"no built site: {site.resolve()} has no index.html. Build one with `python build.py` "
                "in a webvi source checkout, then run webvi demo in the directory that contains its dist/."
            )
        return site

    site = project_root / "dist"
    if build:
        returncode = run_build(build_script, project_root)
        if returncode != 0:
            raise DemoError(
                f"{build_script} failed with exit code {returncode}, see its output above. "
                "Fix what it reports, or pass --no-build to serve dist/ as it is.",
                exit_code=1,
            )
    if not (site / "index.html").is_file():
        raise DemoError(f"{site} has no index.html. Build the site with `python {build_script}` or drop --no-build.")
    return site


def run_build(build_script: Path, project_root: Path) -> int:
    """Run build.py with this interpreter and return its exit code.

    build.py runs in its own process group, so a Ctrl-C in the terminal reaches only the
    demo. On StopRequested the demo sends SIGTERM to that whole group, which also ends
    the npm and Node.js processes that build.py started.
    """
    process = subprocess.Popen(
        [sys.executable, str(build_script)], cwd=project_root, stdin=subprocess.DEVNULL, process_group=0
    )
    try:
        return process.wait()
    except BaseException:
        stop_build(process)
        raise


def stop_build(process: subprocess.Popen) -> None:
    """Send SIGTERM to build.py's process group, and SIGKILL after STOP_TIMEOUT_SECONDS."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        log.warning("build.py (pid %d) still running %g s after SIGTERM, killing it", process.pid, STOP_TIMEOUT_SECONDS)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def read_default_api_url(site: Path) -> str:
    """Return the default value of the example's URL control, as the site serves it."""
    vi_path = site / EXAMPLE_PATH / EXAMPLE_VI
    rebuild = "Rebuild the site with `python build.py`."
    try:
        vi = json.loads(vi_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoError(f"{vi_path} is missing. {rebuild}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DemoError(f"cannot read {vi_path}: {error}. {rebuild}") from None

    controls = vi.get("panel", {}).get("controls", []) if isinstance(vi, dict) else []
    for control in controls:
        if isinstance(control, dict) and control.get("id") == URL_CONTROL_ID:
            default = control.get("default")
            if isinstance(default, str) and default:
                return default
    raise DemoError(f"{vi_path} has no control {URL_CONTROL_ID!r} with a URL as default. {rebuild}")


def select_httpbin_python(option: Path | None, project_root: Path) -> Path:
    """Return the interpreter given by --httpbin-python, $WEBVI_HTTPBIN_PYTHON or the default.

    Raises DemoError when it is missing.
    """
    if option is not None:
        python, source = option, "--httpbin-python"
    else:
        python, source = configured_python(project_root)
    if not is_executable_file(python):
        raise DemoError(
            f"httpbin's Python interpreter {python} ({source}) is missing or not executable. Run scripts/demo, "
            "which installs httpbin and waitress into .venv-httpbin/ with install_httpbin from scripts/common.sh, "
            "or pass --httpbin-python with an interpreter that has them."
        )
    return python


# --- the running demo -------------------------------------------------------------------


def serve_demo(
    site: Path, default_api_url: str, python: Path, port: int, api_port: int, stop_signals: StopSignals
) -> None:
    """Serve the site and httpbin until a signal raises StopRequested or httpbin exits.

    Raises DemoError when a server cannot start or httpbin exits on its own.
    """
    site_server: SiteServer | None = None
    httpbin: HttpbinProcess | None = None
    try:
        site_server = start_site_server(site, port)
        httpbin = start_api_server(python, api_port)
        print_instructions(site_server.url, httpbin.url, default_api_url)

        # Blocks until httpbin exits, unless a stop signal raises StopRequested first.
        httpbin.process.wait()
        stderr_lines = httpbin.read_stderr().rstrip().splitlines()[-STDERR_TAIL_LINES:]
        raise DemoError(
            f"httpbin (pid {httpbin.process.pid}) exited with code {httpbin.process.returncode}, "
            f"so the demo stopped. The last {len(stderr_lines)} lines of its stderr:\n" + "\n".join(stderr_lines),
            exit_code=1,
        )
    finally:
        stop_signals.ignore()
        if site_server is not None:
            site_server.shutdown()
            site_server.server_close()
        if httpbin is not None:
            httpbin.stop()


def start_site_server(site: Path, port: int) -> SiteServer:
    try:
        server = make_site_server(site, host=HOST, port=port)
    except OSError as error:
        raise DemoError(
            f"cannot listen on {HOST}:{port} for the site: {error.strerror or error}. "
            "Choose another port with --port, or --port 0 for any free port."
        ) from None
    server.serve_in_thread()
    log.debug("serving %s on %s", site, server.url)
    return server


def start_api_server(python: Path, port: int) -> HttpbinProcess:
    try:
        return start_httpbin(python, host=HOST, port=port)
    except HttpbinCannotListen as error:
        raise DemoError(f"{error}. Choose another port with --api-port, or --api-port 0 for any free port.") from None
    except HttpbinStartError as error:
        raise DemoError(
            f"{error}\nIf httpbin or waitress is missing from that environment, run scripts/demo, which installs them.",
            exit_code=1,
        ) from None


def api_request_url(default_api_url: str, api_base_url: str) -> str:
    """Return the example's default request URL aimed at the httpbin that runs at api_base_url."""
    default = urllib.parse.urlsplit(default_api_url)
    base = urllib.parse.urlsplit(api_base_url)
    return default._replace(scheme=base.scheme, netloc=base.netloc).geturl()


def example_page_url(site_url: str, api_url: str, default_api_url: str) -> str:
    """Return the example page's URL, with `?url=<api_url>` when api_url is not the control's default."""
    page_url = site_url + EXAMPLE_PATH
    if api_url == default_api_url:
        return page_url
    return page_url + "?" + urllib.parse.urlencode({URL_CONTROL_ID: api_url})


def print_instructions(site_url: str, api_base_url: str, default_api_url: str) -> None:
    api_url = api_request_url(default_api_url, api_base_url)
    cookies_url = urllib.parse.urljoin(api_base_url, "cookies")
    lines = [
        f"webvi demo: open {example_page_url(site_url, api_url, default_api_url)}",
        f"  The page comes from {site_url} and httpbin, the API it calls, from {api_base_url}, another origin.",
        f"  1. Press Run. {api_url} makes httpbin set a cookie and redirect to /cookies,",
        "     which returns the cookies it received.",
        f"  2. Change the URL to {cookies_url} and press Run again: the body shows the cookie coming back.",
        '  3. Switch off "include credentials during CORS" and press Run: the browser sends no cookie,',
        '     so the body shows {"cookies": {}}.',
        "  Ctrl-C stops both servers.",
    ]
    print("\n".join(lines), flush=True)
