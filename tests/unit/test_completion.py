"""Completion: an asyncio-compatible future whose deliver() resumes the waiter in the same call."""

from __future__ import annotations

import asyncio
import functools

import pytest

from webvi.diagram import VIBuilder
from webvi.engine import compile_vi
from webvi.engine.completion import Completion
from webvi.nodes.registry import NodeKind, Registry, Terminal
from webvi.types import I32


def in_event_loop(test):
    """Make an async test function run in a fresh event loop."""

    @functools.wraps(test)
    def wrapper() -> None:
        asyncio.run(test())

    return wrapper


def registry_with_waiting_node(pending: list[Completion[int]]) -> Registry:
    """Return a registry with test.WaitForValue, whose node awaits a Completion it adds to pending."""

    async def wait_for_value(context, inputs):
        completion: Completion[int] = Completion()
        pending.append(completion)
        return {"value": await completion}

    registry = Registry()
    registry.register(
        NodeKind(
            kind="test.WaitForValue",
            title="Wait For Value",
            inputs=(),
            outputs=(Terminal("value", I32, 0),),
            run=wait_for_value,
        )
    )
    return registry


def outside_any_task(loop: asyncio.AbstractEventLoop, function, *args) -> None:
    """Call function from a plain loop callback, as a JavaScript callback reaches Python: no task runs."""
    loop.call_soon(function, *args)


@in_event_loop
async def test_deliver_resumes_waiter_at_once() -> None:
    loop = asyncio.get_running_loop()
    completion: Completion[str] = Completion()
    steps: list[str] = []

    async def waiter() -> None:
        steps.append(await completion)

    def deliver() -> None:
        completion.deliver("response")
        steps.append("deliver returned")

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)
    outside_any_task(loop, deliver)
    await task

    assert steps == ["response", "deliver returned"]


@in_event_loop
async def test_deliver_inside_task_schedules() -> None:
    completion: Completion[int] = Completion()
    seen: list[object] = []
    completion.add_done_callback(lambda done: seen.append(done.result()))

    completion.deliver(7)  # this test is itself a running task

    assert seen == []
    await asyncio.sleep(0)
    assert seen == [7]


@in_event_loop
async def test_set_result_schedules_callbacks() -> None:
    ok: Completion[int] = Completion()
    failed: Completion[int] = Completion()
    seen: list[object] = []
    ok.add_done_callback(lambda done: seen.append(done.result()))
    failed.add_done_callback(lambda done: seen.append(type(done.exception())))

    ok.set_result(1)
    failed.set_exception(ValueError("bad"))

    assert seen == []
    await asyncio.sleep(0)
    assert seen == [1, ValueError]
    with pytest.raises(ValueError, match="bad"):
        failed.result()
    with pytest.raises(asyncio.InvalidStateError):
        ok.set_result(2)


@in_event_loop
async def test_cancel_drops_late_delivery() -> None:
    loop = asyncio.get_running_loop()
    completion: Completion[str] = Completion()

    async def waiter() -> str:
        return await completion

    task = asyncio.create_task(waiter())
    await asyncio.sleep(0)

    task.cancel("the VI stopped")
    with pytest.raises(asyncio.CancelledError):
        await task
    outside_any_task(loop, completion.deliver, "late response")
    await asyncio.sleep(0)

    assert completion.cancelled()
    with pytest.raises(asyncio.CancelledError):
        completion.result()


@in_event_loop
async def test_deliver_reports_failing_callback() -> None:
    loop = asyncio.get_running_loop()
    reported: list[dict] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    completion: Completion[int] = Completion()
    seen: list[int] = []

    def broken(done: Completion[int]) -> None:
        raise RuntimeError("display failed")

    completion.add_done_callback(broken)
    completion.add_done_callback(lambda done: seen.append(done.result()))
    outside_any_task(loop, completion.deliver, 3)
    await asyncio.sleep(0)
    loop.set_exception_handler(None)

    assert seen == [3]
    assert [type(context["exception"]) for context in reported] == [RuntimeError]


@in_event_loop
async def test_result_before_set_raises() -> None:
    completion: Completion[int] = Completion()

    assert not completion.done()
    with pytest.raises(asyncio.InvalidStateError):
        completion.result()
    assert asyncio.isfuture(completion)


@in_event_loop
async def test_late_callback_is_scheduled() -> None:
    completion: Completion[int] = Completion()
    completion.set_result(5)
    seen: list[int] = []

    completion.add_done_callback(lambda done: seen.append(done.result()))

    assert seen == []
    await asyncio.sleep(0)
    assert seen == [5]
    assert completion.remove_done_callback(print) == 0


@in_event_loop
async def test_engine_node_resumes_at_once() -> None:
    """A node waits on a Completion; its delivery finishes the node and the run in that call."""
    loop = asyncio.get_running_loop()
    pending: list[Completion[int]] = []

    registry = registry_with_waiting_node(pending)
    vi = VIBuilder("Completion", registry=registry)
    node = vi.node("test.WaitForValue")
    vi.indicator("value", node.value, id="value")
    run = compile_vi(vi.build(), registry).start()
    waiting = asyncio.ensure_future(run.wait())
    await asyncio.sleep(0)
    assert len(pending) == 1
    assert not run.done

    def deliver() -> None:
        pending[0].deliver(42)
        # The node, the run and the task waiting for it have all moved on by now.
        assert run.done
        assert waiting.done()

    outside_any_task(loop, deliver)
    result = await waiting

    assert result.indicators == {"value": 42}


@in_event_loop
async def test_resumed_waiter_sees_no_node_exception() -> None:
    """Code resumed by the run's end runs outside the scheduler's except clauses."""
    loop = asyncio.get_running_loop()
    pending: list[Completion[int]] = []

    registry = registry_with_waiting_node(pending)
    vi = VIBuilder("Completion", registry=registry)
    vi.indicator("value", vi.node("test.WaitForValue").value, id="value")
    run = compile_vi(vi.build(), registry).start()

    async def wait_then_fail() -> None:
        await run.wait()
        raise ValueError("raised by the code waiting for the run")

    waiting = asyncio.ensure_future(wait_then_fail())
    await asyncio.sleep(0)
    outside_any_task(loop, pending[0].deliver, 42)
    with pytest.raises(ValueError) as raised:
        await waiting

    assert raised.value.__context__ is None
