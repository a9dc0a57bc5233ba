"""Engine overhead workload: 10,000 trivial nodes as a chain and as a wide diagram.

This file runs unchanged on CPython (imported by bench/engine.py) and in Pyodide (its text
is sent to the page), so both measure the same code. `measure()` returns, per shape, the
time to compile and the median time per node of several runs.
"""

from __future__ import annotations

import statistics
import time

from webvi.diagram import VI, Control, Indicator, Node, Wire
from webvi.engine import compile_vi
from webvi.nodes import NodeKind, Registry, Terminal
from webvi.types import I32


async def increment(context, inputs):
    return {"y": inputs["x"] + 1}


INCREMENT = NodeKind("bench.Increment", "Increment", (Terminal("x", I32),), (Terminal("y", I32),), increment)
REGISTRY = Registry([INCREMENT])


def chain_vi(count: int) -> VI:
    """Build a chain: each node's output feeds the next node, so nodes run one after another."""
    nodes = [Node(f"n{index}", INCREMENT.kind) for index in range(count)]
    wires = [Wire("start", "n0.x")]
    wires += [Wire(f"n{index}.y", f"n{index + 1}.x") for index in range(count - 1)]
    wires.append(Wire(f"n{count - 1}.y", "result"))
    return VI("Chain", [Control("start", "start", "I32", 0)], [Indicator("result", "result", "I32")], nodes, wires)


def wide_vi(count: int) -> VI:
    """Build a wide diagram: one control feeds every node, so all nodes are ready at once."""
    nodes = [Node(f"n{index}", INCREMENT.kind) for index in range(count)]
    wires = [Wire("start", f"n{index}.x") for index in range(count)]
    wires.append(Wire(f"n{count - 1}.y", "result"))
    return VI("Wide", [Control("start", "start", "I32", 0)], [Indicator("result", "result", "I32")], nodes, wires)


async def measure(count: int = 10_000, runs: int = 7) -> dict:
    results = {}
    for shape, make, expected in (("chain", chain_vi, count), ("wide", wide_vi, 1)):
        started = time.perf_counter()
        program = compile_vi(make(count), REGISTRY)
        compile_s = time.perf_counter() - started
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            result = await program.run()
            times.append(time.perf_counter() - started)
            if result.indicators["result"] != expected:
                raise AssertionError(f"{shape}: result {result.indicators['result']}, expected {expected}")
        results[shape] = {
            "compile_ms": compile_s * 1000,
            "us_per_node": statistics.median(times) / count * 1e6,
            "runs_us_per_node": [t / count * 1e6 for t in times],
        }
    return results
