"""Error handling and timing nodes: Merge Errors, Clear Errors and Wait (ms).

They let a diagram order its nodes by error wires and run branches in parallel without
touching the network.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from webvi.engine import NodeContext
from webvi.errors import ErrorCluster
from webvi.nodes.registry import NodeKind, Terminal
from webvi.types import ERROR_CLUSTER, I32, U32

_MS_TIMER_START = time.monotonic()


def millisecond_timer() -> int:
    """Return LabVIEW's millisecond timer value: milliseconds since a fixed start, wrapping at 2**32."""
    return int((time.monotonic() - _MS_TIMER_START) * 1000) % 2**32


def merge_errors(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Return the first error in terminal order, else the first warning, else no error."""
    errors: list[ErrorCluster] = inputs["error_in"]
    first_warning = None
    for error in errors:
        if error.status:
            return {"error_out": error}
        if first_warning is None and error.code != 0:
            first_warning = error
    return {"error_out": first_warning or ErrorCluster.NO_ERROR}


def clear_errors(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Clear every error, or only the one whose code is specific error code (when non-zero)."""
    error: ErrorCluster = inputs["error_in"]
    specific = inputs["specific_error_code"]
    if specific != 0 and error.code != specific:
        return {"error_out": error}
    return {"error_out": ErrorCluster.NO_ERROR}


async def wait_ms(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(inputs["milliseconds_to_wait"] / 1000)
    return {"millisecond_timer_value": millisecond_timer()}


MERGE_ERRORS = NodeKind(
    kind="error.MergeErrors",
    title="Merge Errors",
    inputs=(Terminal("error_in", ERROR_CLUSTER, variadic=True, description="error in 1, 2, ..."),),
    outputs=(Terminal("error_out", ERROR_CLUSTER),),
    run=merge_errors,
    custom_errors=True,
    description="Returns the first error of its inputs, in terminal order; else the first warning.",
)

CLEAR_ERRORS = NodeKind(
    kind="error.ClearErrors",
    title="Clear Errors",
    inputs=(
        Terminal("error_in", ERROR_CLUSTER),
        Terminal("specific_error_code", I32, description="0 clears any error; another code clears only that one"),
    ),
    outputs=(Terminal("error_out", ERROR_CLUSTER),),
    run=clear_errors,
    custom_errors=True,
    description="Resets error in to no error, or passes it on when it is not the specific code.",
)

WAIT_MS = NodeKind(
    kind="timing.Wait",
    title="Wait (ms)",
    inputs=(
        Terminal("milliseconds_to_wait", U32, required=True),
        Terminal("error_in", ERROR_CLUSTER),
    ),
    outputs=(
        Terminal("millisecond_timer_value", U32),
        Terminal("error_out", ERROR_CLUSTER),
    ),
    run=wait_ms,
    description="Waits the given number of milliseconds without blocking other branches.",
)

KINDS = (MERGE_ERRORS, CLEAR_ERRORS, WAIT_MS)
