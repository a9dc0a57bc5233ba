"""Property tests: any valid DAG runs every node exactly once, in an order the wires allow."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.nodes import Recorder, registry_with_test_nodes
from webvi.diagram import VI, Indicator, Node, Wire
from webvi.engine import compile_vi

REGISTRY = registry_with_test_nodes()
# Inputs of test.Record that a random wire may use, with the output type that fits each.
INPUTS = (("value", "result"), ("after", "result"), ("also_after", "result"), ("error_in", "error_out"))


@st.composite
def random_dags(draw) -> tuple[VI, list[tuple[str, str]]]:
    """Draw a VI of Record nodes wired as a random DAG, and its node-to-node edges."""
    count = draw(st.integers(min_value=1, max_value=25))
    nodes, wires, edges = [], [], []
    for index in range(count):
        delay = draw(st.sampled_from([0, 0, 0, 1, 3]))
        nodes.append(Node(f"n{index}", "test.Record", constants={"delay_ms": delay}))
        if index == 0:
            continue
        sources = draw(st.lists(st.integers(0, index - 1), max_size=len(INPUTS), unique=True))
        for source, (terminal, output) in zip(sources, INPUTS):
            wires.append(Wire(f"n{source}.{output}", f"n{index}.{terminal}"))
            edges.append((f"n{source}", f"n{index}"))
    last = count - 1
    wires.append(Wire(f"n{last}.text", "last"))
    vi = VI("Random DAG", indicators=[Indicator("last", "last", "String")], nodes=nodes, wires=wires)
    return vi, edges


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_dags())
def test_random_dag_runs_each_node_once(dag) -> None:
    vi, edges = dag
    recorder = Recorder()

    result = asyncio.run(compile_vi(vi, REGISTRY).run(services={"recorder": recorder}))

    starts, ends = recorder.starts(), recorder.ends()
    assert result.status == "finished"
    assert sorted(starts) == sorted(node.id for node in vi.nodes)
    assert sorted(ends) == sorted(starts)
    order = [(event, node_id) for event, node_id, _ in recorder.events]
    for source, sink in edges:
        assert order.index(("end", source)) < order.index(("start", sink)), (source, sink)
    assert result.indicators["last"] == vi.nodes[-1].id
