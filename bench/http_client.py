"""GET node against plain JavaScript fetch, in one page, written to docs/benchmarks.md.

Run after building the site:  .venv/bin/python build.py && .venv/bin/python bench/http_client.py

Three workloads, each measured in the same page for plain `fetch` and for the GET node:
500 sequential small cross-origin GETs, one 32 MiB binary GET into Python bytes (and the
wasm heap after twenty of them), and 100 concurrent GETs of a 200 ms endpoint spread
over 4 origins. Every server is the CORS policy app on its own loopback port.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "runtime"))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from report import chromium_version, machine_description, write_section  # noqa: E402
from support.apps import ApiApp  # noqa: E402
from support.browser import boot_page, load_module, run_python  # noqa: E402
from support.servers import site_server, wsgi_server  # noqa: E402
from webvi.headless import launch_options  # noqa: E402

WORKLOAD = ROOT / "bench" / "http_workload.py"

JS_SEQUENTIAL = """async ([url, count]) => {
    const started = performance.now();
    for (let index = 0; index < count; index++) {
        const response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
        const headers = [...response.headers];
        const body = new Uint8Array(await response.arrayBuffer());
        if (response.status !== 200 || headers.length === 0 || body.length === 0) throw new Error("bad response");
    }
    return performance.now() - started;
}"""

JS_LARGE = """async (url) => {
    const started = performance.now();
    const response = await fetch(url, { cache: "no-store" });
    const body = await response.arrayBuffer();
    return { ms: performance.now() - started, bytes: body.byteLength };
}"""

JS_CONCURRENT = """async (urls) => {
    const started = performance.now();
    await Promise.all(urls.map(async (url) => {
        const response = await fetch(url, { cache: "no-store" });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error("bad response");
    }));
    return performance.now() - started;
}"""

LARGE_PAIRS = 6

HEAP_BYTES = "window.webvi.ready.then(({ pyodide }) => pyodide._module.HEAPU8.length)"


def python(page: Page, call: str) -> object:
    return json.loads(run_python(page, f"import json, http_workload\njson.dumps(await http_workload.{call})"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each workload (default: 3)")
    parser.add_argument("--sequential", type=int, default=500, help="sequential GETs per side and round (default: 500)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md as it is")
    args = parser.parse_args()

    options = launch_options()
    apps = [ApiApp() for _ in range(4)]
    with contextlib.ExitStack() as stack, sync_playwright() as playwright:
        site = stack.enter_context(site_server(ROOT / "dist"))
        apis = [stack.enter_context(wsgi_server(app)) for app in apps]
        browser = playwright.chromium.launch(**options)
        page = browser.new_page()
        boot_page(page, site.url)
        load_module(page, WORKLOAD, "http_workload")

        small = apis[0].url + "wildcard/bytes/64"
        big = apis[0].url + "wildcard/large/32"
        slow = [apis[index % 4].url + f"wildcard/delay/200?n={index}" for index in range(100)]
        # One warm-up of each, so that connections and code caches exist before timing.
        page.evaluate(JS_SEQUENTIAL, [small, 10])
        python(page, f"sequential({small!r}, 50)")
        python(page, f"sequential_runs({small!r}, 10)")

        # Sequential GETs alternate in batches, so that drift in the machine's load (the
        # servers share its two cores with Chromium) affects both sides alike.
        batch = 50
        sequential = {"fetch": [], "node": [], "runs": []}
        for _ in range(args.rounds * args.sequential // batch):
            sequential["fetch"].append(page.evaluate(JS_SEQUENTIAL, [small, batch]) / batch)
            sequential["node"].append(python(page, f"sequential({small!r}, {batch})") / batch)
            sequential["runs"].append(python(page, f"sequential_runs({small!r}, {batch})") / batch)
        print("sequential done", flush=True)

        large = {"fetch": [], "node": []}
        concurrent = {"fetch": [], "node": []}
        for round_number in range(args.rounds):
            # The large GET varies most from run to run (70 to 120 ms for the same side), so
            # it gets several pairs per round, each pair measured back to back, in turns
            # fetch first and node first.
            for pair in range(LARGE_PAIRS):
                sides = ("fetch", "node") if pair % 2 == 0 else ("node", "fetch")
                for side in sides:
                    if side == "fetch":
                        large["fetch"].append(page.evaluate(JS_LARGE, big))
                    else:
                        large["node"].append(python(page, f"large({big!r})"))
            concurrent["fetch"].append(page.evaluate(JS_CONCURRENT, slow))
            concurrent["node"].append(python(page, f"concurrent({slow!r})"))
            print(f"round {round_number + 1} done", flush=True)

        heap_first = page.evaluate(HEAP_BYTES)
        for _ in range(19):
            python(page, f"large({big!r})")
        heap_twentieth = page.evaluate(HEAP_BYTES)
        browser.close()

    per_request = {name: statistics.median(times) for name, times in sequential.items()}
    # The median of per-batch ratios, each batch's two sides measured back to back.
    sequential_ratio = statistics.median(node / fetch for node, fetch in zip(sequential["node"], sequential["fetch"]))
    chain_quartiles = statistics.quantiles(
        [node / fetch for node, fetch in zip(sequential["node"], sequential["fetch"])], n=4
    )
    runs_ratio = statistics.median(runs / fetch for runs, fetch in zip(sequential["runs"], sequential["fetch"]))

    def throughput(runs: list[dict]) -> float:
        return statistics.median(run["bytes"] / 2**20 / (run["ms"] / 1000) for run in runs)

    throughput_fetch, throughput_node = throughput(large["fetch"]), throughput(large["node"])
    # The median of per-pair ratios, as for the sequential GETs.
    throughput_ratio = statistics.median(
        (node["bytes"] / node["ms"]) / (fetch["bytes"] / fetch["ms"]) for node, fetch in zip(large["node"], large["fetch"])
    )
    concurrent_fetch, concurrent_node = (statistics.median(times) for times in concurrent.values())
    concurrent_ratio = concurrent_node / concurrent_fetch

    def verdict(ok: bool) -> str:
        return "meets" if ok else "misses"

    body = f"""## HTTP: GET node against plain fetch

Command: `.venv/bin/python build.py && .venv/bin/python bench/http_client.py --rounds {args.rounds}`

Machine: {machine_description()}; {chromium_version(options['executable_path'])}.
Sequential GETs: {args.rounds * args.sequential} per side, in batches of {batch} that alternate
between the two sides; the ratio is the median of the per-batch ratios.
The 32 MiB GET: {LARGE_PAIRS} pairs per round, each pair back to back in alternating order;
the ratio is the median of the per-pair throughput ratios. Page and
four CORS policy apps (`tests/support/apps.py` under werkzeug's threaded server) on
separate loopback ports, so every request is cross-origin. Both sides send
`cache: "no-store"` and read status, headers and body; medians of {args.rounds} rounds.
The node side runs `bench/http_workload.py` in the page.

| workload | plain fetch | GET node | ratio | goal |
| --- | --- | --- | --- | --- |
| 64-byte GETs in a row (one VI of {batch} chained GET nodes), per request | {per_request['fetch']:.2f} ms | {per_request['node']:.2f} ms | {sequential_ratio:.3f} | at most 1.15 ({verdict(sequential_ratio <= 1.15)}) |
| the same as {batch} runs of a one-GET VI, per request | {per_request['fetch']:.2f} ms | {per_request['runs']:.2f} ms | {runs_ratio:.3f} | (for comparison) |
| one 32 MiB GET, throughput | {throughput_fetch:.0f} MiB/s | {throughput_node:.0f} MiB/s | {throughput_ratio:.3f} | at least 0.95 ({verdict(throughput_ratio >= 0.95)}) |
| 100 concurrent GETs of a 200 ms endpoint over 4 origins | {concurrent_fetch:.0f} ms | {concurrent_node:.0f} ms | {concurrent_ratio:.3f} | at most 1.05 ({verdict(concurrent_ratio <= 1.05)}) |

Wasm heap after the first 32 MiB GET into Python bytes: {heap_first / 2**20:.0f} MiB; after
the twentieth: {heap_twentieth / 2**20:.0f} MiB ({verdict(heap_twentieth <= heap_first)} the goal of no growth).

The per-batch ratios of the GET chain had quartiles {chain_quartiles[0]:.3f} and {chain_quartiles[2]:.3f};
the servers share the machine's two cores with Chromium, so whole runs of this benchmark
vary by a few hundredths too.

A GET node makes one call into `web/webvi-fetch.mjs`, which calls Python back once with
the outcome. That call resumes the node and, after the last node, the code waiting for
the run (`webvi/engine/completion.py`). A body of 1 MiB or more is written chunk by
chunk into the Python bytes object as it arrives (`webvi/browser/body.py`), so the copy
into the wasm heap overlaps the transfer, and no JavaScript buffer contains the whole
body. In this Chromium that is faster than `arrayBuffer()`, hence a ratio above 1.
"""
    print(body)
    if not args.no_write:
        write_section("http", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
