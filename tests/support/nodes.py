"""Node kinds that exist only for tests: a recording node, failing nodes and numeric nodes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from webvi.errors import ErrorCluster
from webvi.nodes import NodeError, NodeKind, Registry, Terminal, default_registry
from webvi.types import BYTE_ARRAY, DBL, ERROR_CLUSTER, I32, STRING, U32


@dataclass
class Recorder:
    """Collects (event, node id, time) from recording nodes, in the order they happen."""

    events: list[tuple[str, str, float]] = field(default_factory=list)

    def starts(self) -> list[str]:
        return [node_id for event, node_id, _ in self.events if event == "start"]

    def ends(self) -> list[str]:
        return [node_id for event, node_id, _ in self.events if event == "end"]


async def _record(context, inputs: dict[str, Any]) -> dict[str, Any]:
    recorder: Recorder = context.services["recorder"]
    recorder.events.append(("start", context.node_id, time.monotonic()))
    if inputs["delay_ms"]:
        await asyncio.sleep(inputs["delay_ms"] / 1000)
    recorder.events.append(("end", context.node_id, time.monotonic()))
    return {"result": inputs["value"] + 1, "text": context.node_id}


RECORD = NodeKind(
    kind="test.Record",
    title="Record",
    inputs=(
        Terminal("value", I32),
        Terminal("after", I32),
        Terminal("also_after", I32),
        Terminal("delay_ms", U32),
        Terminal("error_in", ERROR_CLUSTER),
    ),
    outputs=(Terminal("result", I32), Terminal("text", STRING), Terminal("error_out", ERROR_CLUSTER)),
    run=_record,
)


def _fail(context, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs["warn"]:
        context.warn(inputs["code"], "warned on purpose")
        return {"result": 7}
    raise NodeError(inputs["code"], "failed on purpose")


FAIL = NodeKind(
    kind="test.Fail",
    title="Fail",
    inputs=(
        Terminal("code", I32, default=42),
        Terminal("warn", I32),
        Terminal("handle", I32),
        Terminal("error_in", ERROR_CLUSTER),
    ),
    outputs=(Terminal("result", I32, default=-1), Terminal("handle_out", I32), Terminal("error_out", ERROR_CLUSTER)),
    run=_fail,
    passthrough={"handle_out": "handle"},
)


async def _cleanup(context, inputs: dict[str, Any]) -> dict[str, Any]:
    context.services["recorder"].events.append(("cleanup", context.node_id, time.monotonic()))
    if inputs["fail"]:
        raise NodeError(99, "cleanup failed")
    return {}


CLEANUP = NodeKind(
    kind="test.Cleanup",
    title="Cleanup",
    inputs=(Terminal("fail", I32), Terminal("error_in", ERROR_CLUSTER)),
    outputs=(Terminal("error_out", ERROR_CLUSTER),),
    run=_cleanup,
    cleanup=True,
)


async def _boom(context, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs["delay_ms"]:
        await asyncio.sleep(inputs["delay_ms"] / 1000)
    raise ZeroDivisionError("division by zero in a test node")


BOOM = NodeKind(
    kind="test.Boom",
    title="Boom",
    inputs=(Terminal("delay_ms", U32), Terminal("error_in", ERROR_CLUSTER)),
    outputs=(Terminal("error_out", ERROR_CLUSTER),),
    run=_boom,
)


async def _slow_request(context, inputs: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(inputs["delay_ms"] / 1000)
    return {"status": 200}


SLOW_REQUEST = NodeKind(
    kind="test.SlowRequest",
    title="Slow Request",
    inputs=(Terminal("delay_ms", U32), Terminal("error_in", ERROR_CLUSTER)),
    outputs=(Terminal("status", U32), Terminal("error_out", ERROR_CLUSTER)),
    run=_slow_request,
    abort_code=363508,
)


def _bad_output(context, inputs: dict[str, Any]) -> Any:
    return {"result": "not a number"} if inputs["mode"] == 0 else {"nonexistent": 1}


BAD_OUTPUT = NodeKind(
    kind="test.BadOutput",
    title="Bad Output",
    inputs=(Terminal("mode", I32),),
    outputs=(Terminal("result", I32),),
    run=_bad_output,
)


def _numbers(context, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"i32_out": inputs["i32"], "u32_out": inputs["u32"], "dbl_out": inputs["dbl"]}


NUMBERS = NodeKind(
    kind="test.Numbers",
    title="Numbers",
    inputs=(Terminal("i32", I32), Terminal("u32", U32), Terminal("dbl", DBL)),
    outputs=(Terminal("i32_out", I32), Terminal("u32_out", U32), Terminal("dbl_out", DBL)),
    run=_numbers,
)


def _needs(context, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"length": len(inputs["data"]) + len(inputs["text"])}


NEEDS = NodeKind(
    kind="test.Needs",
    title="Needs",
    inputs=(Terminal("data", BYTE_ARRAY, required=True), Terminal("text", STRING, required=True)),
    outputs=(Terminal("length", I32),),
    run=_needs,
)


def _wired(context, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"body": "computed" if context.is_wired("body") else "skipped", "status": 1}


WIRED = NodeKind(
    kind="test.Wired",
    title="Wired",
    inputs=(),
    outputs=(Terminal("body", STRING), Terminal("status", I32)),
    run=_wired,
)

TEST_KINDS = (RECORD, FAIL, CLEANUP, BOOM, SLOW_REQUEST, BAD_OUTPUT, NUMBERS, NEEDS, WIRED)


def registry_with_test_nodes() -> Registry:
    """The shipped palettes plus the test kinds."""
    return default_registry().extended(TEST_KINDS)


NO_ERROR = ErrorCluster.NO_ERROR
