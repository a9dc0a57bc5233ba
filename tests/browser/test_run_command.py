"""`webvi run` as a user runs it: a subprocess that serves dist/ and runs a VI in headless Chromium."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from support.httpbin import httpbin_server
from support.servers import RunningServer, free_port
from support.vis import no_error, request_vi
from webvi.diagram import VIBuilder

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
# A run boots Pyodide in a fresh Chromium (a few seconds) before the VI starts.
COMMAND_TIMEOUT_SECONDS = 180
NO_ERROR = {"status": False, "code": 0, "source": ""}


@pytest.fixture(scope="module", autouse=True)
def built_site() -> Path:
    # Without dist/ the command would run build.py itself, which downloads Pyodide.
    if not (DIST / "webvi-site.json").is_file():
        pytest.fail("dist/ is not built: run `python build.py` before these tests.")
    return DIST


@pytest.fixture(scope="module")
def httpbin() -> Iterator[RunningServer]:
    with httpbin_server() as server:
        yield server


def webvi_run(*args: Any, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webvi", "run", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        env={**os.environ, **(env or {})},
        check=False,
    )


def output_of(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert completed.stdout, f"no output; stderr:\n{completed.stderr}"
    return json.loads(completed.stdout)


@pytest.fixture
def get_vi(tmp_path: Path) -> Path:
    """Open Handle -> GET -> Close Handle, with controls `URL` (id url) and `timeout in ms`."""
    path = tmp_path / "get.vi.json"
    path.write_text(request_vi("GET"), encoding="utf-8")
    return path


@pytest.fixture
def echo_vi(tmp_path: Path) -> Path:
    """A VI that wires a control of each settable type straight to an indicator."""
    vi = VIBuilder("Echo")
    for label, type_name in [
        ("flag", "Boolean"), ("count", "I32"), ("size", "U32"), ("ratio", "DBL"),
        ("text", "String"), ("bytes", "ByteArray"), ("error in", "ErrorCluster"), ("PIN password", "U32"),
    ]:
        vi.indicator(f"{label} out", vi.control(label, type_name))
    path = tmp_path / "echo.vi.json"
    path.write_text(vi.dumps(), encoding="utf-8")
    return path


@pytest.fixture
def refused_url() -> str:
    """A loopback URL on a port that was just free, so nothing listens there."""
    return f"http://127.0.0.1:{free_port()}/nothing"


# --- runs in Chromium -----------------------------------------------------------------------


def test_run_get_against_httpbin(get_vi: Path, httpbin: RunningServer) -> None:
    """A GET VI prints status 200 by indicator label and exits 0."""
    completed = webvi_run(get_vi, "--set", f"URL={httpbin.url}get?station=7")

    output = output_of(completed)
    assert completed.returncode == 0, completed.stderr
    assert output["vi"] == "GET Test"
    assert output["status"] == "finished"
    assert output["error"] is None
    assert output["indicators"]["status code"] == 200
    assert output["indicators"]["error out"] == NO_ERROR
    assert json.loads(output["indicators"]["body"])["args"] == {"station": "7"}
    assert isinstance(output["indicators"]["body bytes"], list)


def test_run_set_by_id(get_vi: Path, httpbin: RunningServer) -> None:
    """--set accepts a control's id (url) in place of its label (URL)."""
    completed = webvi_run(get_vi, "--set", f"url={httpbin.url}anything/by-id", "--set", "timeout_ms=5000")

    output = output_of(completed)
    assert completed.returncode == 0, completed.stderr
    assert output["indicators"]["status code"] == 200
    assert json.loads(output["indicators"]["body"])["url"].endswith("/anything/by-id")


def test_run_set_each_type(echo_vi: Path) -> None:
    """Boolean, number, NaN, JSON and String values reach the indicators unchanged."""
    completed = webvi_run(
        echo_vi,
        "--set", "flag=ON",
        "--set", "count=-5",
        "--set", "size=4294967295",
        "--set", "ratio=NaN",
        "--set", "text=a=b",
        "--set", "bytes=[72,105]",
        "--set", 'error in={"status":true,"code":56,"source":"x"}',
    )

    indicators = output_of(completed)["indicators"]
    assert completed.returncode == 0, completed.stderr
    assert indicators["flag out"] is True
    assert indicators["count out"] == -5
    assert indicators["size out"] == 4294967295
    assert indicators["ratio out"] == "NaN"
    assert indicators["text out"] == "a=b"
    assert indicators["bytes out"] == [72, 105]
    assert indicators["error in out"] == {"status": True, "code": 56, "source": "x"}


def test_run_http_500_exits_0(get_vi: Path, httpbin: RunningServer) -> None:
    """An HTTP error status is a response, not an error: exit 0 and error out clean."""
    completed = webvi_run(get_vi, "--set", f"URL={httpbin.url}status/500")

    output = output_of(completed)
    assert completed.returncode == 0, completed.stderr
    assert output["status"] == "finished"
    assert output["indicators"]["status code"] == 500
    assert no_error(output["indicators"]["error out"])


def test_run_refused_port_exits_0(get_vi: Path, refused_url: str) -> None:
    """A refused connection finishes the run with error 363650 on error out."""
    completed = webvi_run(get_vi, "--set", f"URL={refused_url}")

    output = output_of(completed)
    assert completed.returncode == 0, completed.stderr
    assert output["status"] == "finished"
    assert output["indicators"]["error out"]["status"] is True
    assert output["indicators"]["error out"]["code"] == 363650


def test_run_timeout_aborts(get_vi: Path, httpbin: RunningServer) -> None:
    """--timeout 1 against a 10 s delay aborts: exit 1, status aborted, GET error 363508."""
    completed = webvi_run(get_vi, "--timeout", "1", "--set", f"URL={httpbin.url}delay/10")

    output = output_of(completed)
    assert completed.returncode == 1, completed.stderr
    assert output["status"] == "aborted"
    assert output["indicators"]["request error"]["code"] == 363508
    assert "timed out after 1 s" in completed.stderr


def test_run_missing_chromium_exits_3(echo_vi: Path) -> None:
    """WEBVI_CHROMIUM naming no file exits 3 with the reason and prints no result."""
    completed = webvi_run(echo_vi, env={"WEBVI_CHROMIUM": "/nonexistent"})

    assert completed.returncode == 3
    assert "WEBVI_CHROMIUM is set to /nonexistent" in completed.stderr
    assert completed.stdout == ""


def test_run_without_playwright_exits_3(echo_vi: Path, tmp_path: Path) -> None:
    """Without an importable Playwright the command exits 3 and names the extra to install."""
    # A plain module named playwright hides the installed package, so its submodules fail to import.
    (tmp_path / "playwright.py").write_text("", encoding="utf-8")

    completed = webvi_run(echo_vi, env={"PYTHONPATH": str(tmp_path)})

    assert completed.returncode == 3
    assert "pip install 'webvi[run]'" in completed.stderr
    assert completed.stdout == ""


# --- rejected before a run ------------------------------------------------------------------


def test_run_invalid_vi_lists_problems(tmp_path: Path) -> None:
    """A dangling wire and an unknown node kind exit 2 with both problems on stderr."""
    path = tmp_path / "broken.vi.json"
    path.write_text(
        json.dumps({
            "format": "webvi-vi",
            "version": 1,
            "name": "Broken",
            "panel": {"indicators": [{"id": "out", "label": "out", "type": "String"}]},
            "diagram": {"nodes": [{"id": "mystery", "kind": "http.Teleport"}], "wires": [["ghost", "out"]]},
        }),
        encoding="utf-8",
    )

    completed = webvi_run(path)

    assert completed.returncode == 2
    assert "unknown node kind 'http.Teleport'" in completed.stderr
    assert "dangling wire: no control 'ghost'" in completed.stderr
    assert completed.stdout == ""


def test_run_unknown_control_exits_2(echo_vi: Path) -> None:
    """An unknown --set name exits 2 and lists the controls."""
    completed = webvi_run(echo_vi, "--set", "volume=3")

    assert completed.returncode == 2
    assert "no control with the label or id 'volume'" in completed.stderr
    assert "'count' (id count, I32)" in completed.stderr


def test_run_ambiguous_control_exits_2(tmp_path: Path) -> None:
    """A name that is one control's id and another's label in other case exits 2."""
    vi = VIBuilder("Ambiguous")
    vi.indicator("first out", vi.control("First", "I32", id="second"))
    vi.indicator("second out", vi.control("Second", "I32", id="other"))
    path = tmp_path / "ambiguous.vi.json"
    path.write_text(vi.dumps(), encoding="utf-8")

    completed = webvi_run(path, "--set", "second=1")

    assert completed.returncode == 2
    assert "'second' is ambiguous" in completed.stderr


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("count=1.5", "'1.5' is not an integer"),
        ("count=3000000000", "3000000000 is out of the I32 range"),
        ("flag=maybe", "'maybe' is not a Boolean"),
        ("ratio=1e999", "'1e999' is out of the DBL range"),
        ("bytes=[1,300]", "a byte array is a list of integers from 0 to 255"),
        ("error in={", "is not valid JSON"),
    ],
)
def test_run_unparsable_value_exits_2(echo_vi: Path, assignment: str, message: str) -> None:
    """A value that does not parse for the control's type exits 2 naming the value."""
    completed = webvi_run(echo_vi, "--set", assignment)

    assert completed.returncode == 2
    assert message in completed.stderr


def test_run_password_value_not_shown(echo_vi: Path) -> None:
    """An invalid value for a control labelled password is not echoed."""
    completed = webvi_run(echo_vi, "--set", "PIN password=hunter2")

    assert completed.returncode == 2
    assert "'PIN password'" in completed.stderr
    assert "hunter2" not in completed.stderr


def test_run_missing_file_exits_2(tmp_path: Path) -> None:
    """A VI path that does not exist exits 2 naming the path."""
    missing = tmp_path / "missing.vi.json"

    completed = webvi_run(missing)

    assert completed.returncode == 2
    assert f"VI file {missing} not found" in completed.stderr
