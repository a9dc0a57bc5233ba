"""Headless Chromium for the host side: `webvi run`, the tests and the benchmarks.

Playwright cannot download its own browsers on a closed network, so this module launches
the system's Chromium (Debian's `chromium` package) through Playwright's
`executable_path`. Playwright is imported by the callers, not here, so that this module
stays importable without it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# Flags that keep Chromium from reaching out to Google services on a closed network
# (without them its background connections are refused, many at a time) and that let it
# run as root in a container.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
)

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


class ChromiumNotFound(RuntimeError):
    """No Chromium executable was found."""


def find_chromium() -> str:
    """Return the path of the Chromium to launch: $WEBVI_CHROMIUM, else a system one."""
    configured = os.environ.get("WEBVI_CHROMIUM")
    if configured:
        if not Path(configured).is_file():
            raise ChromiumNotFound(f"WEBVI_CHROMIUM is set to {configured}, which is not a file.")
        return configured
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    raise ChromiumNotFound(
        "Chromium was not found. Install it (Debian: apt-get install chromium) "
        "or set WEBVI_CHROMIUM to the browser's executable."
    )


def launch_options(extra_args: tuple[str, ...] = ()) -> dict:
    """Return keyword arguments for Playwright's `chromium.launch` and persistent contexts."""
    return {"executable_path": find_chromium(), "args": [*CHROMIUM_ARGS, *extra_args], "headless": True}
