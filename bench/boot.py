"""Cold boot time of a webvi page against a bare Pyodide page, in headless Chromium.

Run after building the site:  .venv/bin/python build.py && .venv/bin/python bench/boot.py

Each run opens a new browser context (empty HTTP cache) and measures from navigation start
to the moment the page reports ready: for the webvi page, the `webvi` wheel installed and
imported; for the bare page, `loadPyodide()` resolved. Runs alternate between the two
pages. The median of each goes to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime"))
sys.path.insert(0, str(ROOT / "bench"))

from report import chromium_version, machine_description, write_section  # noqa: E402
from webvi.headless import launch_options  # noqa: E402
from webvi.server import make_site_server  # noqa: E402

GOAL_RATIO = 1.15
STEP_MARKS = ("support", "manifest", "pyodide", "webvi", "runtime")


def overlay_site(dist: Path, pages: Path, target: Path) -> None:
    """Make target a site of dist's files plus the benchmark pages, by symbolic links."""
    for entry in list(dist.iterdir()) + list(pages.iterdir()):
        os.symlink(entry, target / entry.name)


def measure(page, url: str) -> dict[str, float]:
    page.goto(url)
    page.wait_for_selector("html[data-webvi-state=ready], html[data-webvi-state=failed]", timeout=120_000)
    state = page.evaluate("document.documentElement.dataset.webviState")
    if state != "ready":
        raise RuntimeError(f"{url} failed to boot: {page.inner_text('body')}")
    return page.evaluate(
        """async () => {
            const marks = Object.fromEntries(
                performance.getEntriesByType("mark").map((mark) => [mark.name, mark.startTime]));
            const total = window.webvi ? (await window.webvi.ready).bootMs : window.bootMs;
            return {total, ...marks};
        }"""
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each page (default: 5)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    args = parser.parse_args()

    dist = ROOT / "dist"
    if not (dist / "webvi-site.json").is_file():
        print("dist/ is not built; run `python build.py` first.", file=sys.stderr)
        return 2

    results: dict[str, list[dict[str, float]]] = {"bare": [], "webvi": []}
    with tempfile.TemporaryDirectory() as tmp:
        overlay_site(dist, ROOT / "bench" / "pages", Path(tmp))
        server = make_site_server(Path(tmp))
        server.serve_in_thread()
        options = launch_options()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(**options)
                for run in range(args.runs):
                    for name, path in (("bare", "bare.html"), ("webvi", "index.html")):
                        context = browser.new_context()
                        results[name].append(measure(context.new_page(), server.url + path))
                        context.close()
                    print(f"run {run + 1}: bare {results['bare'][-1]['total']:.0f} ms, "
                          f"webvi {results['webvi'][-1]['total']:.0f} ms", flush=True)
                browser.close()
        finally:
            server.shutdown()
            server.server_close()

    bare = statistics.median(run["total"] for run in results["bare"])
    webvi = statistics.median(run["total"] for run in results["webvi"])
    ratio = webvi / bare
    steps = []
    for mark in STEP_MARKS:
        key = f"webvi:{mark}"
        times = [run[key] for run in results["webvi"] if key in run]
        if times:
            steps.append(f"| {mark} | {statistics.median(times):.0f} |")
    verdict = "meets" if ratio <= GOAL_RATIO else "misses"
    body = f"""## Cold boot: navigation start to `webvi` imported

Command: `.venv/bin/python build.py && .venv/bin/python bench/boot.py --runs {args.runs}`

Machine: {machine_description()}; {chromium_version(options['executable_path'])}; site
served by `webvi.server` on 127.0.0.1, a new browser context (empty cache) for every run.

| page | median of {args.runs} runs (ms) | all runs (ms) |
| --- | --- | --- |
| bare Pyodide (`loadPyodide()` resolved) | {bare:.0f} | {', '.join(f"{run['total']:.0f}" for run in results['bare'])} |
| webvi (`webvi` wheel installed and imported) | {webvi:.0f} | {', '.join(f"{run['total']:.0f}" for run in results['webvi'])} |

Ratio webvi / bare: **{ratio:.3f}**, which {verdict} the goal of {GOAL_RATIO}.

Median time from navigation start to the end of each step of the webvi loader:

| step done | ms |
| --- | --- |
{chr(10).join(steps)}
"""
    print(body)
    if not args.no_write:
        write_section("boot", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
