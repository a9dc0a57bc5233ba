"""The Python half of bench/http_client.py, run inside the page: GET nodes driven by the engine.

Each function builds a VI with webvi's builder, runs it with the page's services (the
browser's fetch) and returns times in milliseconds measured with time.perf_counter.
"""

from __future__ import annotations

import time

from webvi.browser.page import page_services
from webvi.diagram import VIBuilder
from webvi.engine import compile_vi


def one_get_program():
    """Compile a VI with one handle-less GET whose status, headers and body bytes are indicators."""
    vi = VIBuilder("One GET")
    url = vi.control("URL", "String", id="url")
    get = vi.node("http.GET", url=url)
    vi.indicator("status", get.status_code, id="status")
    vi.indicator("headers", get.headers, id="headers")
    vi.indicator("body", get.body_bytes, id="body")
    vi.indicator("error", get.error_out, id="error")
    return compile_vi(vi.build())


def chain_program(count: int):
    """Compile a VI of count GET nodes in a row, each waiting for the previous one's error out.

    Every GET's status and body bytes reach indicators, so every node reads its body.
    """
    vi = VIBuilder("GET Chain")
    url = vi.control("URL", "String", id="url")
    error = None
    for index in range(count):
        get = vi.node("http.GET", url=url, **({"error_in": error} if error is not None else {}))
        vi.indicator(f"status {index}", get.status_code, id=f"status_{index}")
        vi.indicator(f"body {index}", get.body_bytes, id=f"body_{index}")
        error = get.error_out
    vi.indicator("error", error, id="error")
    return compile_vi(vi.build())


_chains: dict[int, object] = {}


async def sequential(url: str, count: int) -> float:
    """Run a VI of count chained GET nodes once; return its time (compiling is not timed)."""
    program = _chains.get(count)
    if program is None:
        program = _chains[count] = chain_program(count)
    started = time.perf_counter()
    result = await program.run({"url": url}, services=page_services())
    elapsed = (time.perf_counter() - started) * 1000
    if result.indicators["error"].status or result.indicators[f"status_{count - 1}"] != 200:
        raise AssertionError(f"GET chain failed: {result.indicators['error']}")
    return elapsed


async def sequential_runs(url: str, count: int) -> float:
    """Run the one-GET VI count times in a row; return the total time."""
    program = one_get_program()
    services = page_services()
    started = time.perf_counter()
    for _ in range(count):
        result = await program.run({"url": url}, services=services)
        if result.indicators["status"] != 200:
            raise AssertionError(f"GET {url} failed: {result.indicators['error']}")
    return (time.perf_counter() - started) * 1000


async def large(url: str) -> dict:
    """GET one large body into Python bytes; return the time and the body length."""
    program = one_get_program()
    started = time.perf_counter()
    result = await program.run({"url": url}, services=page_services())
    elapsed = (time.perf_counter() - started) * 1000
    length = len(result.indicators["body"])
    del result
    return {"ms": elapsed, "bytes": length}


async def concurrent(urls: list[str]) -> float:
    """Run one VI whose GET nodes (one per URL, no handle) all start at once; return its time."""
    vi = VIBuilder("Concurrent GETs")
    gets = [vi.node("http.GET", url=url) for url in urls]
    merged = vi.node("error.MergeErrors", error_in=[get.error_out for get in gets])
    vi.indicator("error", merged.error_out, id="error")
    vi.indicator("last status", gets[-1].status_code, id="status")
    program = compile_vi(vi.build())
    started = time.perf_counter()
    result = await program.run(services=page_services())
    elapsed = (time.perf_counter() - started) * 1000
    if result.indicators["error"].status:
        raise AssertionError(f"concurrent GETs failed: {result.indicators['error']}")
    return elapsed
