"""Fixtures for tests that run real Pyodide in headless Chromium against real servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from support.apps import ApiApp
from support.browser import boot_page
from support.httpbin import httpbin_server
from support.servers import RunningServer, site_server, wsgi_server
from webvi.headless import launch_options
from webvi.server import STRICT_CSP

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def dist_dir() -> Path:
    if not (DIST / "webvi-site.json").is_file():
        pytest.fail("dist/ is not built: run `python build.py` before the browser tests.")
    return DIST


@pytest.fixture(scope="session")
def site_manifest(dist_dir: Path) -> dict:
    return json.loads((dist_dir / "webvi-site.json").read_text())


@pytest.fixture(scope="session")
def site(dist_dir: Path) -> Iterator[RunningServer]:
    """The built site on a loopback port, without a CSP header."""
    with site_server(dist_dir) as server:
        yield server


@pytest.fixture(scope="session")
def strict_site(dist_dir: Path) -> Iterator[RunningServer]:
    """The built site on a loopback port, sent with the strict Content-Security-Policy."""
    with site_server(dist_dir, csp=STRICT_CSP) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(**launch_options())
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def console_messages() -> list[ConsoleMessage]:
    return []


@pytest.fixture
def page(browser: Browser, console_messages: list[ConsoleMessage]) -> Iterator[Page]:
    """A page in a new browser context (empty cache, no cookies), closed after the test."""
    context = browser.new_context()
    page = context.new_page()
    page.on("console", lambda message: console_messages.append(message))
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def booted_page(page: Page, site: RunningServer) -> Page:
    """A page on the site's index whose webvi runtime has finished booting."""
    boot_page(page, site.url)
    return page


@pytest.fixture(scope="session")
def api_app() -> ApiApp:
    return ApiApp()


@pytest.fixture(scope="session")
def api_server(api_app: ApiApp) -> Iterator[RunningServer]:
    """Our CORS policy app on its own loopback port: cross-origin (same-site) for the site."""
    with wsgi_server(api_app) as server:
        yield server


@pytest.fixture
def api(api_app: ApiApp, api_server: RunningServer) -> RunningServer:
    """The CORS policy app with an empty request log."""
    api_app.clear()
    return api_server


@pytest.fixture(scope="session")
def httpbin() -> Iterator[RunningServer]:
    """PyPI's httpbin under waitress, from its own virtual environment."""
    with httpbin_server() as server:
        yield server
