"""Write a benchmark's results into its own section of docs/benchmarks.md.

Each benchmark owns the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`;
a rerun replaces only that section, so the page keeps every benchmark's latest result.
"""

from __future__ import annotations

import platform
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS_PAGE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
PAGE_HEADER = """# Benchmarks

Each section is written by the command it names; rerun that command to refresh it. The
numbers come from the machine named in each section, so compare runs on one machine only.
"""


def machine_description() -> str:
    """Describe the host: CPU model, core count and OS, for the reader of a result."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if match:
            cpu = match.group(1).strip()
    cores = len(re.findall(r"^processor\s*:", cpuinfo.read_text(), re.MULTILINE)) if cpuinfo.is_file() else "?"
    return f"{cpu}, {cores} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def chromium_version(executable: str) -> str:
    try:
        output = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown Chromium"
    return output.strip() or "unknown Chromium"


def write_section(name: str, body: str, page: Path = BENCHMARKS_PAGE) -> None:
    """Replace (or append) the section of benchmark `name` in the benchmarks page."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    section = f"{start}\n{body.strip()}\n\nRecorded {stamp}.\n{end}"
    text = page.read_text() if page.is_file() else PAGE_HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text)
