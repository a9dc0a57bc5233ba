"""Run a VI once in headless Chromium and print its result as one JSON object.

The VI is checked on the host first. Then the built site and the VI file are served on
127.0.0.1, headless Chromium opens the site's page, and the page's Pyodide runs the VI.
HTTP Client nodes use the browser's fetch, as they do for a user, and a relative URL
resolves against the site's root. If the default site (dist/ of a source checkout) is
missing, `python build.py` builds it first.

--set LABEL=VALUE sets a control by its label, or by its id when no label matches. A
Boolean takes true/false, 1/0, yes/no or on/off. I32 and U32 take integers, DBL takes
numbers and NaN, Infinity or -Infinity, and a String takes the text as it is. ByteArray
and ErrorCluster take JSON, such as [72,105] or {"status":true,"code":56,"source":"x"}.

The output is {"vi": name, "status": "finished" | "aborted" | "failed",
"indicators": {label: value, ...}, "error": null or an error cluster}. Indicators that
the run did not write are left out. "error" is set only when a node failed unexpectedly.
Error clusters are objects with status, code and source. Byte arrays are lists of
integers.

Exit codes:
  0  the VI ran to completion, whatever its error out indicators hold
  1  --timeout expired and the run was aborted
  2  invalid arguments, a missing file or an invalid VI (nothing was run)
  3  the run failed in a node, or the site, Playwright, Chromium or Pyodide did not start
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import math
import subprocess
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webvi.cli import DEFAULT_SITE, PROJECT_ROOT
from webvi.diagram import VI, Control, VIError, check_vi, read_vi
from webvi.diagram.validate import CheckedVI
from webvi.headless import ChromiumNotFound, launch_options
from webvi.nodes import default_registry
from webvi.server import SiteRequestHandler, SiteServer
from webvi.types import DataType

log = logging.getLogger(__name__)

EXIT_FINISHED = 0
EXIT_ABORTED = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_CODES_HEADING = "Exit codes:"

DEFAULT_TIMEOUT_SECONDS = 60.0
# Booting Pyodide is not part of the run that --timeout bounds. This limit, the browser
# tests' boot timeout, only keeps a broken page from hanging the command.
BOOT_TIMEOUT_SECONDS = 120.0
# How long an aborted run may take to stop before the command gives up on the page.
ABORT_GRACE_SECONDS = 10.0

# The files that show a site was built; the page's loader needs both.
SITE_FILES = ("index.html", "webvi-site.json")
# The page fetches the VI file from this path of the site server.
VI_ROUTE_PREFIX = "/__run__/"

BOOT_DONE_SELECTOR = "html[data-webvi-state=ready], html[data-webvi-state=failed]"

BOOLEAN_WORDS = {"true": True, "1": True, "yes": True, "on": True, "false": False, "0": False, "no": False, "off": False}
INTEGER_TYPES = ("I32", "U32", "HTTPClientHandle")
JSON_TYPES = ("ByteArray", "ErrorCluster")


class CommandError(Exception):
    """A reason to stop before or instead of running the VI; `exit_code` is the command's exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    description, heading, exit_codes = (__doc__ or "").partition(EXIT_CODES_HEADING)
    parser.description = description.strip()
    parser.epilog = heading + exit_codes
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("vi_path", type=Path, metavar="PATH", help="the VI file (*.vi.json) to run")
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="LABEL=VALUE",
        help="set a control by label or id; split at the first '='; repeat for more controls",
    )
    parser.add_argument(
        "--timeout",
        type=positive_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        metavar="S",
        help=f"abort the run after S seconds, not counting the page's start (default: {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--site", type=Path, default=None, metavar="DIR", help=f"built site to serve (default: {DEFAULT_SITE})"
    )


def positive_seconds(text: str) -> float:
    """Parse a duration in seconds for argparse: a finite number above 0."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds; use, for example, 60")
    return seconds


def main(args: argparse.Namespace) -> int:
    try:
        vi, checked, vi_bytes = load_vi(args.vi_path)
        controls = parse_assignments(args.assignments, vi, checked)
        try:
            from playwright.async_api import async_playwright
        except ImportError:
            raise CommandError(
                "Playwright is not installed, and `webvi run` needs it to drive Chromium. "
                "Install it with: pip install 'webvi[run]'",
                EXIT_FAILED,
            ) from None
        site = find_site(args.site)
        result = asyncio.run(run_in_site(async_playwright, site, args.vi_path.name, vi_bytes, controls, args.timeout))
    except CommandError as error:
        print(f"webvi run: {error}", file=sys.stderr)
        return error.exit_code

    output = output_json(vi, result)
    print(json.dumps(output))
    if output["status"] == "finished":
        return EXIT_FINISHED
    if output["status"] == "aborted":
        return EXIT_ABORTED
    return EXIT_FAILED


# --- the VI and its control values ------------------------------------------------------


def load_vi(path: Path) -> tuple[VI, CheckedVI, bytes]:
    """Read and check the VI file; return the VI, its checked form and the file's bytes."""
    if path.is_dir():
        raise CommandError(f"{path} is a directory; give the path of a *.vi.json file.", EXIT_USAGE)
    if not path.is_file():
        raise CommandError(f"VI file {path} not found; give the path of a *.vi.json file.", EXIT_USAGE)
    try:
        vi = read_vi(path)
        checked = check_vi(vi, default_registry())
    except VIError as error:
        raise CommandError(f"{path}: {error}", EXIT_USAGE) from None
    try:
        vi_bytes = path.read_bytes()
    except OSError as error:
        raise CommandError(f"failed to read VI file {path}: {error.strerror or error}", EXIT_USAGE) from None
    return vi, checked, vi_bytes


def parse_assignments(assignments: list[str], vi: VI, checked: CheckedVI) -> dict[str, Any]:
    """Convert --set arguments to control values as JSON, by control id.

    Values are parsed with each data type's parse_json, so they follow the VI format's
    rules, and are returned in the JSON form the page's Program.controls_from_json takes.
    """
    values: dict[str, Any] = {}
    for number, assignment in enumerate(assignments, start=1):
        name, separator, text = assignment.partition("=")
        if not separator:
            # The argument is not echoed: without "=" it may be a secret typed on its own.
            raise CommandError(f"--set argument {number} has no '='; write it as LABEL=VALUE.", EXIT_USAGE)
        control = find_control(name, vi)
        if control.id in values:
            raise CommandError(f"control {control.label!r} is set twice; give one --set per control.", EXIT_USAGE)
        data_type = checked.control_types[control.id]
        values[control.id] = data_type.to_json(parse_control_value(control, data_type, text))
    return values


def find_control(name: str, vi: VI) -> Control:
    """Return the control with the exact label name, else the one whose id or label (ignoring case) is name.

    Raises CommandError, listing the controls, when no control or two controls match.
    """
    for control in vi.controls:
        if control.label == name:
            return control
    by_id = [control for control in vi.controls if control.id == name]
    # Labels are unique compared without case and surrounding whitespace, as in the VI format.
    folded = name.strip().casefold()
    by_folded_label = [control for control in vi.controls if control.label.strip().casefold() == folded]
    matches = {control.id: control for control in by_id + by_folded_label}
    if len(matches) == 1:
        return next(iter(matches.values()))

    listing = describe_controls(vi)
    if matches:
        raise CommandError(
            f"control name {name!r} is ambiguous: it is the id of one control and the label of another. "
            f"Use the exact label. {listing}",
            EXIT_USAGE,
        )
    raise CommandError(f"VI {vi.name!r} has no control with the label or id {name!r}. {listing}", EXIT_USAGE)


def describe_controls(vi: VI) -> str:
    if not vi.controls:
        return "The VI has no controls."
    items = ", ".join(f"{control.label!r} (id {control.id}, {control.type})" for control in vi.controls)
    return f"Controls: {items}."


def is_secret(control: Control) -> bool:
    """Return True for a control whose value must not appear in messages."""
    return "password" in control.label.casefold() or control.display == "password"


def parse_control_value(control: Control, data_type: DataType, text: str) -> Any:
    """Parse the text of a --set value into a wire value of the control's type."""
    # A secret control's value is never shown, and neither is a reason that may quote it.
    value_text = "the value given" if is_secret(control) else repr(text)
    try:
        json_value = text_to_json(data_type, text)
    except ValueError as error:
        message = f"control {control.label!r}: {value_text} {error}. {value_hint(data_type.name)}"
        raise CommandError(message, EXIT_USAGE) from None
    try:
        value = data_type.parse_json(json_value)
    except (ValueError, TypeError) as error:
        reason = "" if is_secret(control) else f": {error}"
        hint = value_hint(data_type.name) if is_secret(control) or data_type.name in JSON_TYPES else ""
        message = f"control {control.label!r}: {value_text} is not a valid {data_type.name}{reason}. {hint}"
        raise CommandError(message.strip(), EXIT_USAGE) from None
    problem = range_problem(control, value)
    if problem:
        raise CommandError(f"control {control.label!r}: {value_text} is out of range; {problem}.", EXIT_USAGE)
    return value


def range_problem(control: Control, value: Any) -> str | None:
    """Return why a numeric value is outside the control's minimum and maximum, or None."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    if control.minimum is not None and not value >= control.minimum:
        return f"the VI allows values from {control.minimum}" + (
            f" to {control.maximum}" if control.maximum is not None else " up"
        )
    if control.maximum is not None and not value <= control.maximum:
        return f"the VI allows values up to {control.maximum}"
    return None


def text_to_json(data_type: DataType, text: str) -> Any:
    """Convert command-line text to the JSON value a VI file would hold.

    Raises ValueError with a predicate for the text, such as "is not an integer".
    """
    name = data_type.name
    if name == "Boolean":
        word = text.strip().casefold()
        if word not in BOOLEAN_WORDS:
            raise ValueError("is not a Boolean")
        return BOOLEAN_WORDS[word]
    if name in INTEGER_TYPES:
        try:
            return int(text.strip(), 10)
        except ValueError:
            raise ValueError("is not an integer") from None
    if name == "DBL":
        return dbl_text_to_json(text)
    if name in JSON_TYPES:
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"is not valid JSON ({error})") from None
    return text


def dbl_text_to_json(text: str) -> Any:
    word = text.strip().casefold()
    try:
        value = float(word)
    except ValueError:
        raise ValueError("is not a number") from None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        # float() reads "inf" and "Infinity" as infinity, but also overflows "1e999" to it.
        if word.lstrip("+-") not in ("inf", "infinity"):
            raise ValueError("is out of the DBL range")
        return "Infinity" if value > 0 else "-Infinity"
    return value


def value_hint(type_name: str) -> str:
    hints = {
        "Boolean": "Use true or false (also 1/0, yes/no, on/off).",
        "I32": "Use an integer from -2147483648 to 2147483647.",
        "U32": "Use an integer from 0 to 4294967295.",
        "HTTPClientHandle": "Use an integer from 0 to 4294967295.",
        "DBL": "Use a number such as 2.5 or 1e-3, or NaN, Infinity or -Infinity.",
        "ByteArray": "Use a JSON list of integers from 0 to 255, such as [72,105].",
        "ErrorCluster": 'Use a JSON object such as {"status":true,"code":56,"source":"x"}.',
    }
    return hints.get(type_name, "")


# --- the site -----------------------------------------------------------------------------


def find_site(site_arg: Path | None) -> Path:
    """Return the site directory to serve, building the default site when it is missing."""
    if site_arg is not None:
        if not is_built_site(site_arg):
            raise CommandError(
                f"--site {site_arg} is not a built webvi site (it needs {' and '.join(SITE_FILES)}); "
                "build one with `python build.py`.",
                EXIT_USAGE,
            )
        return site_arg
    if is_built_site(DEFAULT_SITE):
        return DEFAULT_SITE

    build_script = PROJECT_ROOT / "build.py"
    if not build_script.is_file():
        raise CommandError(
            f"no built site at {DEFAULT_SITE}. Build one in a webvi checkout with `python build.py` "
            "and pass it with --site DIR.",
            EXIT_FAILED,
        )
    print(f"webvi run: {DEFAULT_SITE} is missing; building it with {build_script}", file=sys.stderr, flush=True)
    # The build's progress goes to stderr, so that stdout holds only the result.
    completed = subprocess.run([sys.executable, str(build_script)], cwd=PROJECT_ROOT, stdout=sys.stderr, check=False)
    if completed.returncode != 0 or not is_built_site(DEFAULT_SITE):
        raise CommandError(
            f"building the site with {build_script} failed (exit code {completed.returncode}); "
            "its output above says why.",
            EXIT_FAILED,
        )
    return DEFAULT_SITE


def is_built_site(directory: Path) -> bool:
    return all((directory / name).is_file() for name in SITE_FILES)


class RunSiteRequestHandler(SiteRequestHandler):
    """The site's request handler plus one route that serves the VI file's bytes."""

    vi_route = ""
    vi_bytes = b""

    def do_GET(self) -> None:
        if self._is_vi_request():
            self._send_vi(with_body=True)
        else:
            super().do_GET()

    def do_HEAD(self) -> None:
        if self._is_vi_request():
            self._send_vi(with_body=False)
        else:
            super().do_HEAD()

    def _is_vi_request(self) -> bool:
        return urllib.parse.urlsplit(self.path).path == self.vi_route

    def _send_vi(self, with_body: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.vi_bytes)))
        self.end_headers()
        if with_body:
            self.wfile.write(self.vi_bytes)


def make_run_server(site: Path, vi_name: str, vi_bytes: bytes) -> tuple[SiteServer, str]:
    """Create a loopback server for the site and the VI file; return it and the VI's URL.

    No Content-Security-Policy is sent, because `default-src 'self'` would also block the
    VI's requests to other origins.
    """
    vi_route = VI_ROUTE_PREFIX + urllib.parse.quote(vi_name)
    handler = type(
        "BoundRunSiteRequestHandler", (RunSiteRequestHandler,), {"vi_route": vi_route, "vi_bytes": vi_bytes}
    )
    server = SiteServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    return server, server.url.rstrip("/") + vi_route


# --- the page -------------------------------------------------------------------------------

# Fetches the VI file by URL, then starts the run. The run stays in the page's Python
# globals, so that later calls can wait for it or abort it.
START_SCRIPT = """async ({ viUrl, controls, code }) => {
    const { pyodide } = await window.webvi.ready;
    const response = await fetch(viUrl, { cache: "no-store" });
    if (!response.ok) throw new Error(`${viUrl} returned HTTP ${response.status}`);
    pyodide.globals.set("_webvi_run_vi_text", await response.text());
    pyodide.globals.set("_webvi_run_controls", controls);
    await pyodide.runPythonAsync(code);
}"""

RUN_PYTHON_SCRIPT = """async (code) => {
    const { pyodide } = await window.webvi.ready;
    return await pyodide.runPythonAsync(code);
}"""

START_CODE = """
import json
from webvi.browser.page import page_services
from webvi.diagram import loads_vi
from webvi.engine import compile_vi

_webvi_run_program = compile_vi(loads_vi(_webvi_run_vi_text))
_webvi_run = _webvi_run_program.start(
    _webvi_run_program.controls_from_json(json.loads(_webvi_run_controls)), services=page_services()
)
"""

RESULT_EXPRESSION = "json.dumps((await _webvi_run.wait()).to_json(_webvi_run_program.checked.indicator_types))"
WAIT_CODE = RESULT_EXPRESSION
ABORT_CODE = "_webvi_run.abort()\n" + RESULT_EXPRESSION


@dataclass
class PageRun:
    """The page's result of the run.

    `result` is RunResult.to_json() with indicators by id, or None when the run never
    started or the page stopped responding.
    """

    result: dict[str, Any] | None


async def run_in_site(
    async_playwright, site: Path, vi_name: str, vi_bytes: bytes, controls: dict[str, Any], timeout: float
) -> PageRun:
    """Serve the site and the VI on loopback, run the VI in headless Chromium and stop the server."""
    server, vi_url = make_run_server(site, vi_name, vi_bytes)
    thread = server.serve_in_thread()
    log.debug("serving %s and the VI at %s", site, vi_url)
    try:
        return await run_in_chromium(async_playwright, server.url, vi_url, controls, timeout)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def run_in_chromium(async_playwright, site_url: str, vi_url: str, controls: dict[str, Any], timeout: float) -> PageRun:
    from playwright.async_api import Error as PlaywrightError

    try:
        options = launch_options()
    except ChromiumNotFound as error:
        raise CommandError(str(error), EXIT_FAILED) from None

    async with async_playwright() as playwright:
        try:
            browser = await playwright.chromium.launch(**options)
        except PlaywrightError as error:
            log.debug("Playwright's launch log: %s", error.message)
            first_line = error.message.strip().splitlines()[0] if error.message.strip() else "no reason given"
            raise CommandError(
                f"Chromium ({options['executable_path']}) failed to start: {first_line}. "
                "Run with --verbose for Playwright's launch log.",
                EXIT_FAILED,
            ) from None
        try:
            page = await browser.new_page()
            page_errors: list[str] = []
            page.on("console", lambda message: log.debug("page console %s: %s", message.type, message.text))
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await boot(page, site_url, page_errors)
            return await run_vi_in_page(page, vi_url, controls, timeout)
        except PlaywrightError as error:
            raise CommandError(f"the page failed while running the VI: {summarize(error.message)}", EXIT_FAILED) from None
        finally:
            await browser.close()


async def boot(page, site_url: str, page_errors: list[str]) -> None:
    """Open the site's page and wait for the webvi runtime, raising CommandError when it fails."""
    from playwright.async_api import Error as PlaywrightError

    log.debug("opening %s", site_url)
    started = time.monotonic()
    try:
        await page.goto(site_url + "index.html")
        # Waits on the DOM, because page.wait_for_function evaluates a string, which
        # webvi's strict Content-Security-Policy blocks on sites that send it.
        await page.wait_for_selector(BOOT_DONE_SELECTOR, state="attached", timeout=BOOT_TIMEOUT_SECONDS * 1000)
        state = await page.evaluate("document.documentElement.dataset.webviState")
    except PlaywrightError as error:
        detail = "; ".join(page_errors) or summarize(error.message)
        raise CommandError(f"the page at {site_url} did not start webvi: {detail}", EXIT_FAILED) from None
    if state != "ready":
        reason = (await page.inner_text("[data-webvi-error]")).strip() or "; ".join(page_errors) or "no reason shown"
        raise CommandError(f"Pyodide or webvi failed to start in the page at {site_url}: {reason}", EXIT_FAILED)
    log.debug("webvi started in the page in %.1f s", time.monotonic() - started)


async def run_vi_in_page(page, vi_url: str, controls: dict[str, Any], timeout: float) -> PageRun:
    """Start the run, wait for it until the timeout and abort it after that."""
    deadline = time.monotonic() + timeout
    try:
        await asyncio.wait_for(
            page.evaluate(START_SCRIPT, {"viUrl": vi_url, "controls": json.dumps(controls), "code": START_CODE}),
            timeout,
        )
    except asyncio.TimeoutError:
        print(f"webvi run: timed out after {timeout:g} s before the run started", file=sys.stderr)
        return PageRun(None)

    try:
        text = await asyncio.wait_for(page.evaluate(RUN_PYTHON_SCRIPT, WAIT_CODE), max(deadline - time.monotonic(), 0))
    except asyncio.TimeoutError:
        log.debug("the run timed out after %g s; aborting it", timeout)
        print(f"webvi run: timed out after {timeout:g} s; aborting the run", file=sys.stderr)
        try:
            text = await asyncio.wait_for(page.evaluate(RUN_PYTHON_SCRIPT, ABORT_CODE), ABORT_GRACE_SECONDS)
        except asyncio.TimeoutError:
            # NOTE: the page did not respond, for example because a node blocks its event loop,
            # so the run's indicators are lost.
            print(
                f"webvi run: the page did not stop the run within {ABORT_GRACE_SECONDS:g} s of the abort",
                file=sys.stderr,
            )
            return PageRun(None)
    return PageRun(json.loads(text))


def summarize(message: str, max_lines: int = 6) -> str:
    """Shorten an error message to its last lines, where a Python traceback names the exception."""
    lines = message.strip().splitlines()
    if len(lines) <= max_lines:
        return "\n".join(lines)
    return "\n".join(["...", *lines[-(max_lines - 1) :]])


# --- output -------------------------------------------------------------------------------


def output_json(vi: VI, page_run: PageRun) -> dict[str, Any]:
    """Return the command's output: indicators by label, in front panel order."""
    if page_run.result is None:
        return {"vi": vi.name, "status": "aborted", "indicators": {}, "error": None}
    by_id = page_run.result["indicators"]
    indicators = {indicator.label: by_id[indicator.id] for indicator in vi.indicators if indicator.id in by_id}
    return {"vi": vi.name, "status": page_run.result["status"], "indicators": indicators, "error": page_run.result["error"]}
