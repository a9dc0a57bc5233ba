"""The built page shell boots Pyodide and webvi, and reports failures in words."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response
from playwright.sync_api import ConsoleMessage, Page

import webvi
from support.apps import hello_api
from support.browser import boot_page, run_python, wait_for_boot
from support.servers import RunningServer, site_server, wsgi_server


def test_page_boots_and_reports_version(booted_page: Page, site_manifest: dict) -> None:
    """The index page reaches ready, its progress bar ends full and it shows the version."""
    status = booted_page.inner_text("[data-webvi-status]")
    progress = booted_page.locator("[data-webvi-progress]")

    assert booted_page.evaluate("document.documentElement.dataset.webviVersion") == webvi.__version__
    assert site_manifest["webvi"] == webvi.__version__
    assert f"webvi {webvi.__version__} is ready" in status
    assert progress.get_attribute("value") == progress.get_attribute("max")
    assert booted_page.locator("[data-webvi-error]").is_hidden()


def test_webvi_imports_inside_pyodide(booted_page: Page, site_manifest: dict) -> None:
    """Python in the page imports webvi from the installed wheel, on Pyodide's Python."""
    result = run_python(
        booted_page,
        "import sys, importlib.metadata, webvi\n"
        "{'version': webvi.__version__, 'dist': importlib.metadata.version('webvi'),"
        " 'platform': sys.platform, 'python': list(sys.version_info[:2])}",
    )

    assert result["version"] == webvi.__version__
    assert result["dist"] == site_manifest["webvi"]
    assert result["platform"] == "emscripten"
    assert result["python"][0] == 3
    assert result["python"][1] >= 12


def test_progress_bar_moves_through_steps(page: Page, site: RunningServer) -> None:
    """Every loader step leaves a performance mark, in order, before the page is ready."""
    boot_page(page, site.url)
    marks = page.evaluate(
        "performance.getEntriesByType('mark').filter((m) => m.name.startsWith('webvi:'))"
        ".map((m) => m.name)"
    )

    assert marks == ["webvi:support", "webvi:manifest", "webvi:pyodide", "webvi:webvi", "webvi:runtime"]


def test_python_fetch_reaches_other_origin(booted_page: Page) -> None:
    """js.fetch called from Python in the page reaches a server on another loopback port."""
    with wsgi_server(hello_api) as api:
        result = run_python(
            booted_page,
            f"import js\n"
            f"response = await js.fetch({api.url + 'hello'!r})\n"
            f"{{'status': response.status, 'body': await response.text()}}",
        )

    assert result["status"] == 200
    body = json.loads(result["body"])
    assert body["message"] == "hello from the API"
    assert body["origin"] == booted_page.evaluate("location.origin")


def test_page_boots_under_strict_csp(
    page: Page, strict_site: RunningServer, console_messages: list[ConsoleMessage]
) -> None:
    """With the strict CSP header the page boots and the browser reports no violation."""
    response = page.goto(strict_site.url)
    assert response is not None
    assert "wasm-unsafe-eval" in response.headers["content-security-policy"]

    assert wait_for_boot(page) == "ready"
    violations = [message.text for message in console_messages if "Content Security Policy" in message.text]
    assert violations == []


def test_micropip_loads_from_rewritten_lock(booted_page: Page) -> None:
    """micropip and packaging load from the site's own lock file despite PyPI's hashes."""
    result = run_python(
        booted_page,
        "import pyodide_js\n"
        "await pyodide_js.loadPackage(['micropip', 'packaging'])\n"
        "import micropip, packaging.version\n"
        "{'micropip': micropip.__version__, 'newer': packaging.version.Version('26.1') > packaging.version.Version('9')}",
    )

    assert result["micropip"]
    assert result["newer"] is True


@pytest.mark.parametrize(
    ("missing", "expected"),
    [
        ("pyodide/pyodide.asm.wasm", "Starting Pyodide"),
        ("pyodide/python_stdlib.zip", "Starting Pyodide"),
        ("pyodide/pyodide.mjs", "Starting Pyodide"),
        ("pyodide/pyodide-lock.json", "Starting Pyodide"),
        ("webvi-site.json", "Reading the site manifest"),
        ("wheels", "Installing webvi"),
    ],
)
def test_missing_file_shows_error(page: Page, dist_dir: Path, tmp_path: Path, missing: str, expected: str) -> None:
    """A copy of dist/ without one file shows an error naming the failed step, not a hang."""
    copy = tmp_path / "site"
    shutil.copytree(dist_dir, copy)
    target = copy / missing
    if target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()

    with site_server(copy) as server:
        page.goto(server.url)
        state = wait_for_boot(page)
        error = page.inner_text("[data-webvi-error]")

    assert state == "failed"
    assert expected in error
    assert "python build.py" in error
    assert page.locator("[data-webvi-error]").is_visible()


def test_corrupt_wasm_shows_error(page: Page, dist_dir: Path, tmp_path: Path) -> None:
    """A wasm file that does not compile fails the boot with the compiler's message."""
    copy = tmp_path / "site"
    shutil.copytree(dist_dir, copy)
    (copy / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm this is not a WebAssembly module")

    with site_server(copy) as server:
        page.goto(server.url)
        state = wait_for_boot(page)
        error = page.inner_text("[data-webvi-error]")

    assert state == "failed"
    assert "could not be compiled" in error


def test_csp_without_wasm_eval_shows_error(page: Page, dist_dir: Path) -> None:
    """A CSP that forbids compiling WebAssembly fails the boot in words, not by a hang."""
    with site_server(dist_dir, csp="default-src 'self'; script-src 'self'") as server:
        page.goto(server.url)
        state = wait_for_boot(page)
        error = page.inner_text("[data-webvi-error]")

    assert state == "failed"
    assert "could not be compiled" in error


def static_site(directory: Path, mime_types: dict[str, str]):
    """A WSGI app serving directory with the given MIME type per suffix (else octet-stream)."""

    @Request.application
    def app(request: Request) -> Response:
        path = (directory / request.path.lstrip("/")).resolve()
        if request.path == "/":
            path = directory / "index.html"
        if not path.is_file() or not path.is_relative_to(directory):
            return Response("not found", status=404)
        return Response(path.read_bytes(), mimetype=mime_types.get(path.suffix, "application/octet-stream"))

    return app


GOOD_TYPES = {".html": "text/html", ".mjs": "text/javascript", ".css": "text/css", ".json": "application/json"}


def test_wrong_wasm_mime_type_shows_error(page: Page, dist_dir: Path) -> None:
    """A server that sends the wasm file as application/octet-stream is named in the error."""
    with wsgi_server(static_site(dist_dir, GOOD_TYPES)) as server:
        page.goto(server.url)
        state = wait_for_boot(page)
        error = page.inner_text("[data-webvi-error]")

    assert state == "failed"
    assert 'it must send "application/wasm"' in error


def test_loader_that_never_starts_shows_notice(page: Page, dist_dir: Path) -> None:
    """When the loader module cannot run (served as text/plain), CSS alone shows a notice."""
    types = {**GOOD_TYPES, ".mjs": "text/plain", ".wasm": "application/wasm"}
    with wsgi_server(static_site(dist_dir, types)) as server:
        page.goto(server.url)
        notice = page.locator("[data-webvi-stalled]")
        notice.wait_for(state="visible", timeout=30_000)
        text = notice.inner_text()
        state = page.evaluate("document.documentElement.dataset.webviState")

    assert "loader script did not start" in text
    assert "text/javascript" in text
    assert state is None


def test_stalled_notice_hidden_after_boot(booted_page: Page) -> None:
    """The loader removes the stalled-loader notice as soon as it starts."""
    assert booted_page.locator("[data-webvi-stalled]").count() == 0
