"""The dataflow scheduler: ordering, concurrency, errors, abort and failing nodes, on CPython."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from support.nodes import NO_ERROR, Recorder, registry_with_test_nodes
from webvi.diagram import VIBuilder
from webvi.engine import Program, RunResult, compile_vi
from webvi.errors import ErrorCluster

REGISTRY = registry_with_test_nodes()


def builder() -> VIBuilder:
    return VIBuilder("Under Test", registry=REGISTRY)


def run(program: Program, controls: dict[str, Any] | None = None, **services: Any) -> RunResult:
    return asyncio.run(program.run(controls, services=services))


def overlaps(recorder: Recorder, first: str, second: str) -> bool:
    """Whether the two nodes' start-to-end intervals overlap in time."""
    times = {(event, node_id): at for event, node_id, at in recorder.events}
    return times[("start", second)] < times[("end", first)] and times[("start", first)] < times[("end", second)]


# --- ordering and concurrency --------------------------------------------------------


def test_chain_runs_in_wire_order() -> None:
    vi = builder()
    a = vi.node("test.Record", id="a", value=1)
    b = vi.node("test.Record", id="b", value=a.result)
    c = vi.node("test.Record", id="c", value=b.result)
    vi.indicator("out", c.result)
    recorder = Recorder()

    result = run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    assert recorder.starts() == ["a", "b", "c"]
    assert result.indicators["out"] == 4
    assert result.status == "finished"


def test_node_waits_for_every_wired_input() -> None:
    vi = builder()
    slow = vi.node("test.Record", id="slow", delay_ms=200)
    fast = vi.node("test.Record", id="fast")
    join = vi.node("test.Record", id="join", after=slow.result, also_after=fast.result)
    vi.indicator("out", join.text)
    recorder = Recorder()

    run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    assert recorder.ends().index("slow") < recorder.starts().index("join")
    assert recorder.ends()[-1] == "join"


def test_independent_waits_run_concurrently() -> None:
    vi = builder()
    first = vi.node("test.Record", id="first", delay_ms=300)
    second = vi.node("test.Record", id="second", delay_ms=300)
    merge = vi.node("error.MergeErrors", error_in=[first.error_out, second.error_out])
    vi.indicator("error out", merge.error_out)
    recorder = Recorder()

    run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    assert overlaps(recorder, "first", "second")


def test_parallel_wait_nodes_overlap() -> None:
    """Two Wait (ms) nodes of 1 s each finish together, about 1 s after the start."""
    vi = builder()
    first = vi.node("timing.Wait", milliseconds_to_wait=1000)
    second = vi.node("timing.Wait", milliseconds_to_wait=1000)
    vi.indicator("first timer", first.millisecond_timer_value)
    vi.indicator("second timer", second.millisecond_timer_value)
    program = compile_vi(vi.build(), REGISTRY)

    started = time.monotonic()
    result = run(program)
    elapsed = time.monotonic() - started

    # Serial waits would take 2 s; this bound only separates "parallel" from "serial".
    assert elapsed < 1.8
    assert abs(result.indicators["first_timer"] - result.indicators["second_timer"]) < 500


def test_indicator_updates_before_run_ends() -> None:
    vi = builder()
    fast = vi.node("test.Record", id="fast")
    slow = vi.node("test.Record", id="slow", delay_ms=200)
    vi.indicator("fast out", fast.text)
    vi.indicator("slow out", slow.text)
    recorder = Recorder()
    updates: list[tuple[str, float]] = []

    async def main() -> RunResult:
        program = compile_vi(vi.build(), REGISTRY)
        running = program.start(services={"recorder": recorder},
                                 on_indicator=lambda name, value: updates.append((name, time.monotonic())))
        return await running.wait()

    asyncio.run(main())

    slow_end = next(at for event, node_id, at in recorder.events if (event, node_id) == ("end", "slow"))
    assert [name for name, _ in updates] == ["fast_out", "slow_out"]
    assert updates[0][1] < slow_end


def test_unwired_inputs_take_defaults_and_constants() -> None:
    vi = builder()
    numbers = vi.node("test.Numbers", dbl=2.5)
    vi.indicator("i32", numbers.i32_out)
    vi.indicator("dbl", numbers.dbl_out)

    result = run(compile_vi(vi.build(), REGISTRY))

    assert result.indicators == {"i32": 0, "dbl": 2.5}


def test_wire_coerces_numbers_at_run_time() -> None:
    vi = builder()
    value = vi.control("value", "DBL", default=2.5)
    signed = vi.control("signed", "I32", default=-1)
    numbers = vi.node("test.Numbers", i32=value, u32=signed, dbl=signed)
    vi.indicator("i32", numbers.i32_out)
    vi.indicator("u32", numbers.u32_out)
    vi.indicator("dbl", numbers.dbl_out)
    vi.indicator("as dbl", numbers.u32_out, type_name="DBL")

    result = run(compile_vi(vi.build(), REGISTRY), {"value": 3.5})

    assert result.indicators == {"i32": 4, "u32": 4294967295, "dbl": -1.0, "as_dbl": 4294967295.0}


def test_control_values_are_checked() -> None:
    vi = builder()
    value = vi.control("value", "U32", default=1)
    vi.indicator("out", value)
    program = compile_vi(vi.build(), REGISTRY)

    with pytest.raises(ValueError, match="control 'value': -1 is out of the U32 range"):
        run(program, {"value": -1})
    with pytest.raises(ValueError, match="the VI has no control 'other'; controls: value"):
        run(program, {"other": 1})


def test_node_sees_which_outputs_are_wired() -> None:
    vi = builder()
    first = vi.node("test.Wired")
    second = vi.node("test.Wired")
    vi.indicator("first body", first.body)
    vi.indicator("second status", second.status)
    vi.indicator("second body", second.status, type_name="I32")

    result = run(compile_vi(vi.build(), REGISTRY))

    assert result.indicators["first_body"] == "computed"
    assert result.indicators["second_status"] == 1


def test_program_runs_many_times() -> None:
    vi = builder()
    value = vi.control("value", "I32", default=1)
    node = vi.node("test.Record", value=value)
    vi.indicator("out", node.result)
    program = compile_vi(vi.build(), REGISTRY)

    results = [run(program, {"value": number}, recorder=Recorder()).indicators["out"] for number in range(3)]

    assert results == [1, 2, 3]


# --- standard error behavior -----------------------------------------------------------


def test_error_skips_downstream_node() -> None:
    vi = builder()
    fail = vi.node("test.Fail", id="fail", code=56, handle=9)
    after = vi.node("test.Record", id="after", value=5, error_in=fail.error_out)
    vi.indicator("handle", fail.handle_out)
    vi.indicator("fail result", fail.result)
    vi.indicator("after result", after.result)
    vi.indicator("error out", after.error_out)
    recorder = Recorder()

    result = run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    error = result.indicators["error_out"]
    assert recorder.starts() == []
    assert error.status is True
    assert error.code == 56
    assert error.source.splitlines()[0] == "Fail in Under Test"
    assert "failed on purpose" in error.source
    assert result.indicators["handle"] == 9
    assert result.indicators["fail_result"] == -1
    assert result.indicators["after_result"] == 0
    assert result.status == "finished"


def test_error_passes_through_chain_unchanged() -> None:
    vi = builder()
    fail = vi.node("test.Fail", code=7)
    first = vi.node("test.Record", error_in=fail.error_out)
    second = vi.node("timing.Wait", milliseconds_to_wait=10_000, error_in=first.error_out)
    third = vi.node("test.Fail", code=8, error_in=second.error_out)
    vi.indicator("first error", first.error_out)
    vi.indicator("error out", third.error_out)

    result = run(compile_vi(vi.build(), REGISTRY), recorder=Recorder())

    assert result.indicators["error_out"] == result.indicators["first_error"]
    assert result.indicators["error_out"].code == 7


def test_cleanup_node_runs_despite_error() -> None:
    vi = builder()
    fail = vi.node("test.Fail", code=56)
    cleanup = vi.node("test.Cleanup", id="close", fail=1, error_in=fail.error_out)
    vi.indicator("error out", cleanup.error_out)
    recorder = Recorder()

    result = run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    assert [event for event, *_ in recorder.events] == ["cleanup"]
    assert result.indicators["error_out"].code == 56


def test_cleanup_node_reports_own_error() -> None:
    vi = builder()
    cleanup = vi.node("test.Cleanup", fail=1)
    vi.indicator("error out", cleanup.error_out)

    result = run(compile_vi(vi.build(), REGISTRY), recorder=Recorder())

    error = result.indicators["error_out"]
    assert error.code == 99
    assert error.source == "Cleanup in Under Test\ncleanup failed"


def test_warning_does_not_stop_next_node() -> None:
    vi = builder()
    warn = vi.node("test.Fail", id="warn", code=5101, warn=1)
    after = vi.node("test.Record", id="after", error_in=warn.error_out)
    vi.indicator("error out", after.error_out)
    recorder = Recorder()

    result = run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    warning = result.indicators["error_out"]
    assert recorder.starts() == ["after"]
    assert warning.status is False
    assert warning.code == 5101
    assert "warned on purpose" in warning.source


def test_new_error_replaces_incoming_warning() -> None:
    vi = builder()
    warn = vi.node("test.Fail", code=5101, warn=1)
    fail = vi.node("test.Fail", code=56, error_in=warn.error_out)
    vi.indicator("error out", fail.error_out)

    result = run(compile_vi(vi.build(), REGISTRY))

    assert result.indicators["error_out"].code == 56
    assert result.indicators["error_out"].status is True


def test_merge_errors_takes_first_error() -> None:
    vi = builder()
    warning = vi.control("warning", "ErrorCluster", default=ErrorCluster(False, 5101, "w"))
    first = vi.control("first", "ErrorCluster", default=ErrorCluster(True, 1, "one"))
    second = vi.control("second", "ErrorCluster", default=ErrorCluster(True, 2, "two"))
    merge = vi.node("error.MergeErrors", error_in=[warning, first, second])
    vi.indicator("error out", merge.error_out)
    program = compile_vi(vi.build(), REGISTRY)

    assert run(program).indicators["error_out"].code == 1
    assert run(program, {"first": NO_ERROR}).indicators["error_out"].code == 2
    only_warning = run(program, {"first": NO_ERROR, "second": NO_ERROR}).indicators["error_out"]
    assert only_warning == ErrorCluster(False, 5101, "w")
    assert run(program, {"first": NO_ERROR, "second": NO_ERROR, "warning": NO_ERROR}).indicators["error_out"] == NO_ERROR


def test_merge_errors_joins_branches() -> None:
    vi = builder()
    ok = vi.node("test.Record", id="ok", delay_ms=50)
    fail = vi.node("test.Fail", code=363650)
    merge = vi.node("error.MergeErrors", error_in=[ok.error_out, fail.error_out])
    after = vi.node("test.Record", id="after", error_in=merge.error_out)
    vi.indicator("error out", after.error_out)
    recorder = Recorder()

    result = run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    assert recorder.starts() == ["ok"]
    assert result.indicators["error_out"].code == 363650


@pytest.mark.parametrize(("specific", "expected_code"), [(0, 0), (56, 0), (7, 56)])
def test_clear_errors(specific: int, expected_code: int) -> None:
    vi = builder()
    error = vi.control("error", "ErrorCluster", default=ErrorCluster(True, 56, "GET in VI"))
    clear = vi.node("error.ClearErrors", error_in=error, specific_error_code=specific)
    vi.indicator("error out", clear.error_out)

    result = run(compile_vi(vi.build(), REGISTRY))

    assert result.indicators["error_out"].code == expected_code


# --- abort, exceptions and broken nodes -------------------------------------------------


def test_abort_cancels_in_flight_nodes() -> None:
    vi = builder()
    request = vi.node("test.SlowRequest", id="request", delay_ms=5000)
    wait = vi.node("timing.Wait", milliseconds_to_wait=5000)
    after = vi.node("test.Record", id="after", error_in=request.error_out)
    vi.indicator("request error", request.error_out)
    vi.indicator("status", request.status)
    vi.indicator("timer", wait.millisecond_timer_value)
    vi.indicator("after", after.text)
    recorder = Recorder()

    async def main() -> tuple[RunResult, float]:
        running = compile_vi(vi.build(), REGISTRY).start(services={"recorder": recorder})
        await asyncio.sleep(0.1)
        started = time.monotonic()
        running.abort()
        return await running.wait(), time.monotonic() - started

    result, elapsed = asyncio.run(main())

    error = result.indicators["request_error"]
    assert result.aborted is True
    assert result.status == "aborted"
    assert error.code == 363508
    assert error.source.startswith("Slow Request in Under Test\nThe request was aborted")
    assert result.indicators["status"] == 0
    assert "timer" not in result.indicators
    assert recorder.starts() == []
    assert elapsed < 1.0


def test_cancelled_wait_aborts_run() -> None:
    vi = builder()
    wait = vi.node("timing.Wait", milliseconds_to_wait=5000)
    vi.indicator("timer", wait.millisecond_timer_value)
    program = compile_vi(vi.build(), REGISTRY)

    async def main() -> bool:
        running = program.start()
        waiter = asyncio.ensure_future(running.wait())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        result = await running.wait()
        return result.aborted

    assert asyncio.run(main()) is True


def test_node_exception_ends_run_with_error() -> None:
    vi = builder()
    boom = vi.node("test.Boom", id="boom", delay_ms=50)
    wait = vi.node("timing.Wait", milliseconds_to_wait=10_000)
    vi.indicator("error out", boom.error_out)
    vi.indicator("timer", wait.millisecond_timer_value)
    program = compile_vi(vi.build(), REGISTRY)

    started = time.monotonic()
    result = run(program)
    elapsed = time.monotonic() - started

    assert result.status == "failed"
    assert result.error.status is True
    assert result.error.code == 5001
    assert result.error.source.startswith("Boom in Under Test\n")
    assert "ZeroDivisionError: division by zero in a test node" in result.error.source
    assert "timer" not in result.indicators
    assert elapsed < 5


def test_synchronous_exception_ends_run() -> None:
    vi = builder()
    boom = vi.node("test.Boom")
    after = vi.node("test.Record", id="after", error_in=boom.error_out)
    vi.indicator("out", after.text)
    recorder = Recorder()

    result = run(compile_vi(vi.build(), REGISTRY), recorder=recorder)

    assert result.error.code == 5001
    assert recorder.events == []


@pytest.mark.parametrize(("mode", "detail"), [(0, "output 'result': expected an integer"), (1, "unknown output(s) nonexistent")])
def test_invalid_node_output_ends_run(mode: int, detail: str) -> None:
    vi = builder()
    bad = vi.node("test.BadOutput", mode=mode)
    vi.indicator("out", bad.result)

    result = run(compile_vi(vi.build(), REGISTRY))

    assert result.error.code == 5002
    assert detail in result.error.source


def test_run_end_callbacks_run_once() -> None:
    calls: list[str] = []

    def remember(context, inputs: dict[str, Any]) -> dict[str, Any]:
        context.on_run_end(lambda: calls.append(context.node_id))
        return {}

    from webvi.nodes import NodeKind

    kind = NodeKind("test.Remember", "Remember", (), (), remember)
    registry = REGISTRY.extended([kind])
    vi = VIBuilder("Ends", registry=registry)
    vi.node(kind, id="one")
    vi.node(kind, id="two")

    asyncio.run(compile_vi(vi.build(), registry).run())

    assert sorted(calls) == ["one", "two"]


def test_abort_still_runs_cleanup_nodes() -> None:
    """After an abort, a cleanup node downstream of the cancelled node runs and passes its error on."""
    vi = builder()
    request = vi.node("test.SlowRequest", id="request", delay_ms=5000)
    cleanup = vi.node("test.Cleanup", id="close", error_in=request.error_out)
    after = vi.node("test.Record", id="after", error_in=request.error_out)
    vi.indicator("error out", cleanup.error_out)
    vi.indicator("after", after.text)
    recorder = Recorder()

    async def main() -> RunResult:
        running = compile_vi(vi.build(), REGISTRY).start(services={"recorder": recorder})
        await asyncio.sleep(0.05)
        running.abort()
        return await running.wait()

    result = asyncio.run(main())

    assert result.aborted is True
    assert result.indicators["error_out"].code == 363508
    assert [event for event, *_ in recorder.events] == ["cleanup"]
    assert "after" not in result.indicators
