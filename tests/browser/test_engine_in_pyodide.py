"""The dataflow engine runs a VI inside Pyodide exactly as on CPython."""

from __future__ import annotations

from playwright.sync_api import Page

from support.browser import run_python

SMALL_VI = """
from webvi.diagram import VIBuilder
from webvi.engine import compile_vi
from webvi.errors import ErrorCluster

vi = VIBuilder("Pyodide Check")
error_in = vi.control("error in", "ErrorCluster", default=ErrorCluster())
first = vi.node("timing.Wait", milliseconds_to_wait=300, error_in=error_in)
second = vi.node("timing.Wait", milliseconds_to_wait=300, error_in=error_in)
merge = vi.node("error.MergeErrors", error_in=[first.error_out, second.error_out])
vi.indicator("first", first.millisecond_timer_value)
vi.indicator("second", second.millisecond_timer_value)
vi.indicator("error out", merge.error_out)
program = compile_vi(vi.build())

import time
started = time.monotonic()
clean = await program.run()
elapsed_ms = (time.monotonic() - started) * 1000
failed = await program.run({"error_in": ErrorCluster(True, 56, "GET in Caller")})
{
    "elapsed_ms": elapsed_ms,
    "timers": [clean.indicators["first"], clean.indicators["second"]],
    "clean_status": clean.status,
    "clean_error": clean.indicators["error_out"].code,
    "failed_error": [failed.indicators["error_out"].code, failed.indicators["error_out"].source],
    "failed_timer": failed.indicators["first"],
}
"""


def test_small_vi_runs_in_pyodide(booted_page: Page) -> None:
    """Two waits run in parallel in the page, and an incoming error skips both."""
    result = run_python(booted_page, SMALL_VI)

    assert result["clean_status"] == "finished"
    assert result["clean_error"] == 0
    # Run in sequence, the two 300 ms waits would take 600 ms; in parallel their timers agree.
    assert result["elapsed_ms"] < 550
    assert abs(result["timers"][0] - result["timers"][1]) < 100
    assert result["failed_error"] == [56, "GET in Caller"]
    assert result["failed_timer"] == 0
