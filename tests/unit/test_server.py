"""The site server and `webvi serve`: MIME types, CSP header, loopback only."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from support.servers import site_server
from webvi.server import STRICT_CSP, make_site_server


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<!doctype html><title>t</title>")
    (tmp_path / "pyodide").mkdir()
    (tmp_path / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm\1\0\0\0")
    (tmp_path / "pyodide" / "pyodide.mjs").write_text("export {};")
    return tmp_path


def fetch(url: str) -> tuple[bytes, Message]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read(), response.headers


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("pyodide/pyodide.asm.wasm", "application/wasm"),
        ("pyodide/pyodide.mjs", "text/javascript"),
        ("index.html", "text/html; charset=utf-8"),
    ],
)
def test_site_server_mime_types(site_dir: Path, path: str, content_type: str) -> None:
    with site_server(site_dir) as server:
        _, headers = fetch(server.url + path)

    assert headers["Content-Type"] == content_type
    assert headers["Cache-Control"] == "no-cache"


def test_site_server_sends_csp_when_asked(site_dir: Path) -> None:
    with site_server(site_dir, csp=STRICT_CSP) as server:
        _, headers = fetch(server.url)

    assert headers["Content-Security-Policy"] == STRICT_CSP


def test_site_server_omits_csp_by_default(site_dir: Path) -> None:
    with site_server(site_dir) as server:
        _, headers = fetch(server.url)

    assert "Content-Security-Policy" not in headers


def test_site_server_binds_loopback(site_dir: Path) -> None:
    server = make_site_server(site_dir)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_site_server_requires_built_site(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="python build.py"):
        make_site_server(tmp_path)


def test_serve_command_serves_directory(site_dir: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "webvi", "serve", str(site_dir), "--port", "0", "--csp"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        assert match, f"unexpected first line: {line!r}"
        body, headers = fetch(match.group(1) + "pyodide/pyodide.asm.wasm")
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert body == b"\0asm\1\0\0\0"
    assert headers["Content-Type"] == "application/wasm"
    assert headers["Content-Security-Policy"] == STRICT_CSP


def test_serve_command_rejects_unbuilt_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "webvi", "serve", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert "python build.py" in result.stderr
    assert "Traceback" not in result.stderr
