"""The README's first command: `webvi demo` serves the example and a local httpbin."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from support.browser import wait_for_boot

OPEN_LINE = re.compile(r"^webvi demo: open (\S+)$")


@pytest.fixture
def demo_url(dist_dir) -> Iterator[str]:
    """Start `webvi demo` on free ports and yield the page URL it prints."""
    process = subprocess.Popen(
        [sys.executable, "-m", "webvi", "demo", "--port", "0", "--api-port", "0", "--no-build"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = OPEN_LINE.match(line.strip())
            url = match.group(1) if match else None
        if url is None:
            process.kill()
            pytest.fail(f"webvi demo printed no URL: {process.stderr.read()}")
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()


def run_example(page: Page) -> str:
    page.click("button[data-webvi-action=run]")
    page.wait_for_selector(".webvi-run-status:text-matches('^(Finished|Aborted|The run failed)')", timeout=30_000)
    return page.inner_text("[data-webvi-indicator=body] [data-webvi-value]")


def test_demo_shows_cookie_round_trip(page: Page, demo_url: str) -> None:
    """Open the printed URL, run the example twice and see the cookie come back."""
    page.goto(demo_url)
    assert wait_for_boot(page) == "ready"
    page.wait_for_selector("[data-webvi-panel-state=ready]", timeout=30_000)
    default_url = page.input_value("#credentialed-get-control-url")

    first = run_example(page)
    page.fill("#credentialed-get-control-url", default_url.split("/cookies/set")[0] + "/cookies")
    second = run_example(page)
    page.uncheck("#credentialed-get-control-include_credentials")
    third = run_example(page)

    assert "/cookies/set?station=bench-7" in default_url
    assert '"station": "bench-7"' in first
    assert '"station": "bench-7"' in second
    assert '"station"' not in third
    assert page.inner_text("[data-webvi-indicator=error_out] [data-webvi-field=code]") == "0"
