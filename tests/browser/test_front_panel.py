"""Front panels in the page, driven like a person would: the credentialed GET example,
layout, text-only indicators, abort, the keyboard, and two panels on one page."""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page

from support.browser import wait_for_boot
from support.servers import RunningServer, site_server
from webvi.diagram import VIBuilder

PANEL_READY = "[data-webvi-panel-state=ready]"
RUN_TIMEOUT_MS = 30_000
_page_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pages_site(dist_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningServer, Path]]:
    """The built site plus a folder `pages/` where tests write their own pages and VIs."""
    root = tmp_path_factory.mktemp("site")
    for entry in dist_dir.iterdir():
        os.symlink(entry, root / entry.name)
    (root / "pages").mkdir()
    with site_server(root) as server:
        yield server, root / "pages"


def write_page(pages: Path, body: str, files: dict[str, str] | None = None) -> str:
    """Write an HTML page (and VI files) under pages/; return its path relative to the site."""
    number = next(_page_numbers)
    for name, text in (files or {}).items():
        (pages / name).write_text(text)
    (pages / f"page{number}.html").write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test page</title>'
        '<link rel="stylesheet" href="../webvi.css"><script type="module" src="../webvi-loader.mjs"></script>'
        f"</head><body><main class=\"webvi-page\">{body}</main></body></html>"
    )
    return f"pages/page{number}.html"


def open_example(page: Page, site: RunningServer, url: str | None = None) -> None:
    query = f"?url={quote(url)}" if url else ""
    page.goto(site.url + "examples/credentialed-get/" + query)
    assert wait_for_boot(page) == "ready"
    page.wait_for_selector(PANEL_READY, timeout=RUN_TIMEOUT_MS)


def click_run(page: Page, panel: str = "") -> str:
    """Click Run and wait for the run to end; return the status line."""
    page.click(f"{panel} button[data-webvi-action=run]")
    page.wait_for_selector(f"{panel}[data-webvi-panel-state=running], {panel} .webvi-run-status:not(:text('Ready.'))")
    page.wait_for_selector(f"{panel}[data-webvi-panel-state=ready]", timeout=RUN_TIMEOUT_MS)
    return page.inner_text(f"{panel} .webvi-run-status")


def indicator(page: Page, indicator_id: str, panel: str = "") -> str:
    return page.inner_text(f"{panel} [data-webvi-indicator={indicator_id}] [data-webvi-value]")


def error_field(page: Page, indicator_id: str, field: str) -> str:
    return page.inner_text(f"[data-webvi-indicator={indicator_id}] [data-webvi-field={field}]")


def simple_vi(name: str, *, run_on_load: bool = False) -> str:
    """A VI that waits `wait (ms)` and shows the timer value and a copy of its text control."""
    vi = VIBuilder(name, run_on_load=run_on_load)
    wait_ms = vi.control("wait (ms)", "U32", default=10, id="wait_ms", maximum=60_000)
    text = vi.control("text", "String", default="hello", id="text")
    flag = vi.control("flag", "Boolean", default=False, id="flag")
    wait = vi.node("timing.Wait", milliseconds_to_wait=wait_ms)
    vi.indicator("timer", wait.millisecond_timer_value, id="timer")
    vi.indicator("echo", text, id="echo")
    vi.indicator("flag out", flag, id="flag_out")
    vi.indicator("error out", wait.error_out, id="error_out")
    return vi.dumps()


# --- the credentialed GET example ---------------------------------------------------------


def test_example_cookie_round_trip(page: Page, site: RunningServer, httpbin: RunningServer) -> None:
    """Set a cookie, see it come back, then switch credentials off and see it is not sent."""
    open_example(page, site)
    page.fill("#credentialed-get-control-url", httpbin.url + "cookies/set?station=bench-7")

    first = click_run(page)
    set_body = indicator(page, "body")
    page.fill("#credentialed-get-control-url", httpbin.url + "cookies")
    click_run(page)
    sent_body = indicator(page, "body")
    page.uncheck("#credentialed-get-control-include_credentials")
    click_run(page)
    not_sent_body = indicator(page, "body")

    assert first.startswith("Finished")
    assert '"station": "bench-7"' in set_body
    assert '"station": "bench-7"' in sent_body
    assert '"station"' not in not_sent_body
    assert indicator(page, "status_code") == "200"
    assert error_field(page, "error_out", "status") == "no error"
    assert error_field(page, "error_out", "code") == "0"
    assert indicator(page, "headers").startswith("HTTP/1.1 200 OK")


def test_example_shows_network_error(page: Page, site: RunningServer, api: RunningServer) -> None:
    """A wildcard CORS response to a credentialed request shows error 363650 in error out."""
    open_example(page, site, api.url + "wildcard/echo")

    click_run(page)

    assert error_field(page, "error_out", "status") == "error"
    assert error_field(page, "error_out", "code") == "363650"
    source = error_field(page, "error_out", "source")
    assert source.startswith("GET in Credentialed GET\n")
    assert "include credentials during CORS to False" in source
    assert indicator(page, "status_code") == "0"


def boxes_overlap(first: dict, second: dict) -> bool:
    return (
        first["x"] < second["x"] + second["width"] - 0.5
        and second["x"] < first["x"] + first["width"] - 0.5
        and first["y"] < second["y"] + second["height"] - 0.5
        and second["y"] < first["y"] + first["height"] - 0.5
    )


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_panel_layout_has_no_overlaps(page: Page, site: RunningServer, httpbin: RunningServer,
                                      tmp_path: Path, width: int, height: int) -> None:
    """Panel items, the toolbar and the page fit side by side without overlapping."""
    page.set_viewport_size({"width": width, "height": height})
    open_example(page, site, httpbin.url + "get")
    click_run(page)

    boxes = page.evaluate(
        """() => [...document.querySelectorAll('.webvi-item, .webvi-toolbar')].map((node) => {
            const box = node.getBoundingClientRect();
            return {name: node.dataset.webviControl || node.dataset.webviIndicator || node.className,
                    x: box.x, y: box.y, width: box.width, height: box.height};
        })"""
    )
    page_width = page.evaluate("document.documentElement.scrollWidth")
    screenshot = page.screenshot(path=str(tmp_path / "panel.png"), full_page=True)

    assert len(boxes) == 8
    for first, second in itertools.combinations(boxes, 2):
        assert not boxes_overlap(first, second), (first["name"], second["name"])
    assert all(box["width"] > 0 and box["height"] > 0 for box in boxes)
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= width for box in boxes)
    assert page_width <= width
    assert screenshot[:8] == b"\x89PNG\r\n\x1a\n"


def test_html_body_shows_as_text(page: Page, site: RunningServer, api: RunningServer) -> None:
    """A body with HTML and script is shown literally and nothing in it runs."""
    open_example(page, site, api.url + "credentialed/html")

    click_run(page)

    assert indicator(page, "body").startswith('<b id="injected">bold</b><script>')
    assert page.evaluate("window.injected") is None
    assert page.locator("#injected").count() == 0
    assert page.locator("[data-webvi-indicator=body] script, [data-webvi-indicator=body] img").count() == 0


def test_abort_stops_a_running_request(page: Page, site: RunningServer, api: RunningServer) -> None:
    """While a slow request runs, Run is disabled; Abort ends it with error 363508."""
    open_example(page, site, api.url + "credentialed/delay/10000")

    page.click("button[data-webvi-action=run]")
    page.wait_for_selector("[data-webvi-panel-state=running]")
    run_disabled = page.is_disabled("button[data-webvi-action=run]")
    busy = page.get_attribute("section[aria-label=Indicators]", "aria-busy")
    started = time.monotonic()
    page.click("button[data-webvi-action=abort]")
    page.wait_for_selector(PANEL_READY, timeout=RUN_TIMEOUT_MS)
    elapsed = time.monotonic() - started

    assert run_disabled is True
    assert busy == "true"
    assert page.inner_text(".webvi-run-status").startswith("Aborted")
    assert error_field(page, "error_out", "code") == "363508"
    assert page.is_enabled("button[data-webvi-action=run]")
    assert page.is_disabled("button[data-webvi-action=abort]")
    assert elapsed < 5


def test_keyboard_only_run(page: Page, site: RunningServer, httpbin: RunningServer) -> None:
    """Tab reaches the URL, the switch, the timeout and Run; Space toggles; Enter runs."""
    open_example(page, site)
    page.focus("#credentialed-get-control-url")
    page.keyboard.press("Control+A")
    page.keyboard.type(httpbin.url + "cookies")
    order = []
    for _ in range(3):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.dataset.webviAction"))
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Space")
    include = page.is_checked("#credentialed-get-control-include_credentials")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector(".webvi-run-status:text-matches('^Finished')", timeout=RUN_TIMEOUT_MS)

    assert order == [
        "credentialed-get-control-include_credentials",
        "credentialed-get-control-timeout_ms",
        "run",
    ]
    assert include is False
    assert indicator(page, "status_code") == "200"


def test_labels_name_every_input(page: Page, site: RunningServer) -> None:
    open_example(page, site)

    unlabeled = page.evaluate(
        """() => [...document.querySelectorAll('.webvi-panel input, .webvi-panel textarea, .webvi-panel output')]
            .filter((node) => node.labels.length === 0).map((node) => node.id)"""
    )

    assert unlabeled == []


def test_numeric_range_check_blocks_run(page: Page, site: RunningServer, api: RunningServer, api_app) -> None:
    """An out-of-range timeout marks the control invalid and Run does not start the VI."""
    open_example(page, site, api.url + "credentialed/echo")

    page.fill("#credentialed-get-control-timeout_ms", "700000")
    invalid = page.get_attribute("#credentialed-get-control-timeout_ms", "aria-invalid")
    message = page.inner_text("[data-webvi-control=timeout_ms] .webvi-message")
    page.click("button[data-webvi-action=run]")
    status = page.inner_text(".webvi-run-status")
    page.fill("#credentialed-get-control-timeout_ms", "2.5")
    fraction_message = page.inner_text("[data-webvi-control=timeout_ms] .webvi-message")

    assert invalid == "true"
    assert message == "enter a value from -1 to 600000"
    assert status.startswith("Fix the controls first: timeout in ms")
    assert fraction_message == "I32 takes whole numbers only"
    assert [request for request in api_app.requests if not request.preflight] == []


# --- embedding ------------------------------------------------------------------------------


def test_two_panels_share_one_pyodide(page: Page, pages_site) -> None:
    """Two panels on one page load, run independently and use one Pyodide."""
    site, pages = pages_site
    path = write_page(
        pages,
        '<div id="first" data-webvi="first.vi.json"></div><div id="second" data-webvi="second.vi.json"></div>',
        {"first.vi.json": simple_vi("First Panel"), "second.vi.json": simple_vi("Second Panel")},
    )
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"
    page.wait_for_selector("#first[data-webvi-panel-state=ready]")
    page.wait_for_selector("#second[data-webvi-panel-state=ready]")

    page.fill("#first-control-text", "from the first panel")
    click_run(page, "#first")
    titles = page.locator(".webvi-title").all_inner_texts()
    wasm_downloads = page.evaluate(
        "performance.getEntriesByType('resource').filter((entry) => entry.name.endsWith('pyodide.asm.wasm')).length"
    )

    assert titles == ["First Panel", "Second Panel"]
    assert indicator(page, "echo", "#first") == "from the first panel"
    assert indicator(page, "echo", "#second") == ""
    assert wasm_downloads == 1


def test_javascript_api_controls_runs(page: Page, pages_site) -> None:
    """The host page sets controls, runs, reads indicators and hears value changes."""
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="api.vi.json"></div>', {"api.vi.json": simple_vi("API Panel")})
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"

    result = page.evaluate(
        """async () => {
            const panel = await window.webvi.panel("panel");
            const heard = [];
            document.getElementById("panel").addEventListener("webvi:indicator", (event) => heard.push(event.detail.id));
            panel.setControl("text", "set by the host");
            panel.setControl("flag", true);
            const result = await panel.run();
            return {result, heard, echo: panel.indicator("echo"), flag: panel.indicator("flag out")};
        }"""
    )

    assert result["result"]["status"] == "finished"
    assert result["result"]["indicators"]["echo"] == "set by the host"
    assert result["echo"] == "set by the host"
    assert result["flag"] is True
    assert sorted(result["heard"]) == ["echo", "error_out", "flag_out", "timer"]
    assert page.is_checked("#panel-control-flag")


def test_javascript_api_aborts(page: Page, pages_site) -> None:
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="slow.vi.json"></div>', {"slow.vi.json": simple_vi("Slow Panel")})
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"

    status = page.evaluate(
        """async () => {
            const panel = await window.webvi.panel("panel");
            panel.setControl("wait_ms", 30000);
            const running = panel.run();
            await new Promise((resolve) => setTimeout(resolve, 200));
            panel.abort();
            return (await running).status;
        }"""
    )

    assert status == "aborted"


def test_javascript_api_rejects_bad_values(page: Page, pages_site) -> None:
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="bad.vi.json"></div>', {"bad.vi.json": simple_vi("Bad Values")})
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"

    messages = page.evaluate(
        """async () => {
            const panel = await window.webvi.panel("panel");
            const errors = [];
            for (const [name, value] of [["wait_ms", -5], ["nonexistent", 1]]) {
                try { panel.setControl(name, value); } catch (error) { errors.push(error.message); }
            }
            return errors;
        }"""
    )

    assert messages[0] == 'control "wait (ms)": enter a value from 0 to 60000'
    assert messages[1].startswith('the panel has no control "nonexistent"; controls: wait_ms, text, flag')


def test_vi_runs_on_load(page: Page, pages_site) -> None:
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="auto.vi.json"></div>',
                      {"auto.vi.json": simple_vi("Auto Run", run_on_load=True)})
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"
    page.wait_for_selector("#panel .webvi-run-status:text-matches('^Finished')", timeout=RUN_TIMEOUT_MS)

    assert indicator(page, "echo") == "hello"


def test_invalid_vi_file_shows_problems(page: Page, pages_site) -> None:
    site, pages = pages_site
    broken = simple_vi("Broken").replace('"timing.Wait"', '"timing.Wiat"')
    path = write_page(pages, '<div id="panel" data-webvi="broken.vi.json"></div>', {"broken.vi.json": broken})
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"
    page.wait_for_selector("#panel[data-webvi-panel-state=failed]")

    message = page.inner_text("#panel [role=alert]")

    assert "broken.vi.json is invalid" in message
    assert "unknown node kind 'timing.Wiat'" in message


def test_missing_vi_file_reported(page: Page, pages_site) -> None:
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="nowhere.vi.json"></div>')
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"
    page.wait_for_selector("#panel[data-webvi-panel-state=failed]")

    assert "returned HTTP 404" in page.inner_text("#panel [role=alert]")


def test_embedded_page_shows_boot_progress(page: Page, pages_site) -> None:
    """A page without a boot section gets progress and errors inside each panel."""
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="progress.vi.json"></div>',
                      {"progress.vi.json": simple_vi("Progress")})

    page.goto(site.url + path)
    had_progress = page.locator("#panel progress[data-webvi-progress]").count()
    wait_for_boot(page)
    page.wait_for_selector("#panel[data-webvi-panel-state=ready]")

    assert had_progress == 1
    assert page.locator("#panel progress").count() == 0


def test_bad_query_value_skipped(page: Page, pages_site) -> None:
    """A query value that does not fit its control is skipped and named; the panel loads."""
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="query.vi.json"></div>', {"query.vi.json": simple_vi("Query")})
    page.goto(site.url + path + "?wait_ms=99999&text=from%20the%20query&flag=maybe")
    assert wait_for_boot(page) == "ready"
    page.wait_for_selector("#panel[data-webvi-panel-state=ready]")

    status = page.inner_text("#panel .webvi-run-status")

    assert status.startswith("Ignored initial values:")
    assert "?wait_ms=99999: control \"wait (ms)\": enter a value from 0 to 60000" in status
    assert "?flag=maybe" in status
    assert page.input_value("#panel-control-wait_ms") == "10"
    assert page.input_value("#panel-control-text") == "from the query"
    assert page.get_attribute("#panel-control-wait_ms", "aria-invalid") == "false"


def test_rejected_value_leaves_control_unchanged(page: Page, pages_site) -> None:
    site, pages = pages_site
    path = write_page(pages, '<div id="panel" data-webvi="keep.vi.json"></div>', {"keep.vi.json": simple_vi("Keep")})
    page.goto(site.url + path)
    assert wait_for_boot(page) == "ready"

    outcome = page.evaluate(
        """async () => {
            const panel = await window.webvi.panel("panel");
            const errors = [];
            for (const value of [-10, 1.5, "abc", true]) {
                try { panel.setControl("wait_ms", value); } catch (error) { errors.push(error.message); }
            }
            const result = await panel.run();
            return {errors, status: result.status};
        }"""
    )

    assert len(outcome["errors"]) == 4
    assert "U32 takes whole numbers only" in outcome["errors"][1]
    assert page.input_value("#panel-control-wait_ms") == "10"
    assert outcome["status"] == "finished"


def test_password_kept_out_of_events(page: Page, pages_site) -> None:
    site, pages = pages_site
    vi = VIBuilder("Secret")
    secret = vi.control("password", "String", default="", id="secret", display="password")
    vi.indicator("length", secret, id="copy")
    path = write_page(pages, '<div id="panel" data-webvi="secret.vi.json"></div>', {"secret.vi.json": vi.dumps()})
    page.goto(site.url + path + "?secret=from-the-url")
    assert wait_for_boot(page) == "ready"

    details = page.evaluate(
        """async () => {
            const panel = await window.webvi.panel("panel");
            const seen = [];
            document.getElementById("panel").addEventListener("webvi:run", (event) => seen.push(event.detail));
            panel.setControl("secret", "s3cret-value");
            await panel.run();
            return JSON.stringify(seen);
        }"""
    )

    assert "s3cret-value" not in details
    assert page.input_value("#panel-control-secret") == "s3cret-value"
