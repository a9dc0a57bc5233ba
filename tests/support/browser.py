"""Browser helpers: wait for the webvi boot and run Python in the page's Pyodide."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

BOOT_TIMEOUT_MS = 120_000
BOOT_DONE = "html[data-webvi-state=ready], html[data-webvi-state=failed]"


def wait_for_boot(page: Page) -> str:
    """Wait until the loader reports ready or failed; return that state.

    Waits on the DOM, because `wait_for_function` evaluates a string, which a strict CSP
    blocks.
    """
    page.wait_for_selector(BOOT_DONE, state="attached", timeout=BOOT_TIMEOUT_MS)
    return page.evaluate("document.documentElement.dataset.webviState")


def boot_page(page: Page, url: str) -> None:
    """Open url and wait for the webvi runtime to be ready, failing with the page's error."""
    page.goto(url)
    state = wait_for_boot(page)
    if state != "ready":
        raise AssertionError(f"the page at {url} failed to boot: {page.inner_text('[data-webvi-error]')}")


def run_python(page: Page, code: str) -> Any:
    """Run Python code in the page's Pyodide and return its last expression, converted to JS.

    The result passes through `toJs` so that dicts and lists come back as plain values.
    """
    return page.evaluate(
        """async (code) => {
            const { pyodide } = await window.webvi.ready;
            const result = await pyodide.runPythonAsync(code);
            if (result && typeof result.toJs === "function") {
                const value = result.toJs({ dict_converter: Object.fromEntries });
                result.destroy();
                return value;
            }
            return result;
        }""",
        code,
    )


RUN_VI = """
import json
from webvi.browser.page import page_services
from webvi.diagram import loads_vi
from webvi.engine import compile_vi

program = compile_vi(loads_vi(VI_TEXT))
result = await program.run(program.controls_from_json(json.loads(CONTROLS)), services=page_services())
json.dumps(result.to_json(program.checked.indicator_types))
"""


def run_vi(page: Page, vi_text: str, controls: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a VI file's text in the page's Pyodide; return status, indicators (JSON) and error."""
    code = f"VI_TEXT = {vi_text!r}\nCONTROLS = {json.dumps(controls or {})!r}\n" + RUN_VI
    return json.loads(run_python(page, code))


def load_module(page: Page, path: Path, name: str) -> None:
    """Make the Python file at path importable as `name` in the page's Pyodide."""
    run_python(
        page,
        "import sys, types\n"
        f"module = types.ModuleType({name!r})\n"
        f"exec({path.read_text()!r}, module.__dict__)\n"
        f"sys.modules[{name!r}] = module\n",
    )
