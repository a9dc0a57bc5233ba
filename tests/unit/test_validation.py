"""Loading and validating VI files: every problem is reported, with node id and terminal."""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

import pytest

from support.nodes import Recorder, registry_with_test_nodes
from webvi.diagram import VIBuilder, VIError, dumps_vi, loads_vi, parse_vi, read_vi, validate
from webvi.engine import compile_vi

REGISTRY = registry_with_test_nodes()


def vi_json(nodes: list[dict], wires: list[list[str]], controls: list[dict] | None = None,
            indicators: list[dict] | None = None) -> dict[str, Any]:
    return {
        "format": "webvi-vi",
        "version": 1,
        "name": "Under Test",
        "panel": {"controls": controls or [], "indicators": indicators or []},
        "diagram": {"nodes": nodes, "wires": wires},
    }


def problems_of(data: dict[str, Any]) -> list[str]:
    """Return the problems parse and validation find, as text."""
    try:
        vi = parse_vi(data)
    except VIError as error:
        return [str(problem) for problem in error.problems]
    return [str(problem) for problem in validate(vi, REGISTRY)]


VALID = vi_json(
    nodes=[
        {"id": "first", "kind": "test.Record", "constants": {"value": 1}},
        {"id": "second", "kind": "test.Record"},
    ],
    wires=[["first.result", "second.value"], ["second.result", "out"], ["start", "first.after"]],
    controls=[{"id": "start", "label": "start", "type": "I32", "default": 0}],
    indicators=[{"id": "out", "label": "out", "type": "I32"}],
)


def test_valid_vi_has_no_problems() -> None:
    assert problems_of(VALID) == []


def test_unknown_node_kind() -> None:
    data = vi_json(nodes=[{"id": "get", "kind": "http.GETT"}], wires=[])

    [problem] = problems_of(data)
    assert problem.startswith("node 'get': unknown node kind 'http.GETT'")
    assert "known kinds:" in problem


def test_unknown_terminal_on_wire() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["wires"].append(["first.nonexistent", "second.after"])

    [problem] = problems_of(data)
    assert "wire 4 (first.nonexistent -> second.after)" in problem
    assert "unknown output terminal 'first.nonexistent'" in problem


def test_unknown_terminal_in_constant() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["nodes"][1]["constants"] = {"timeout": 5}

    [problem] = problems_of(data)
    assert problem.startswith("node 'second' terminal 'timeout': unknown input terminal of test.Record")


def test_type_mismatch_on_wire() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["wires"].append(["first.text", "second.also_after"])

    [problem] = problems_of(data)
    assert "wire 4 (first.text -> second.also_after)" in problem
    assert "type mismatch: String cannot be wired to I32" in problem


def test_type_mismatch_in_constant() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["nodes"][0]["constants"] = {"value": "one"}

    [problem] = problems_of(data)
    assert problem.startswith("node 'first' terminal 'value': type mismatch")


def test_numeric_wire_coerces_without_problem() -> None:
    data = vi_json(
        nodes=[{"id": "numbers", "kind": "test.Numbers"}],
        wires=[["n", "numbers.u32"], ["numbers.dbl_out", "numbers_out"]],
        controls=[{"id": "n", "label": "n", "type": "DBL", "default": 2.5}],
        indicators=[{"id": "numbers_out", "label": "out", "type": "I32"}],
    )

    assert problems_of(data) == []


def test_input_with_two_wires() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["wires"].append(["start", "second.value"])

    [problem] = problems_of(data)
    assert "node 'second' terminal 'value' already has a wire (wire 1)" in problem


def test_input_with_wire_and_constant() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["nodes"][1]["constants"] = {"value": 3}

    [problem] = problems_of(data)
    assert "has both a wire and a constant" in problem


def test_required_input_unwired() -> None:
    data = vi_json(nodes=[{"id": "needs", "kind": "test.Needs", "constants": {"text": "x"}}], wires=[])

    [problem] = problems_of(data)
    assert problem == "node 'needs' terminal 'data': required input is not wired and has no constant"


def test_cycle_names_its_nodes() -> None:
    data = vi_json(
        nodes=[
            {"id": "a", "kind": "test.Record"},
            {"id": "b", "kind": "test.Record"},
            {"id": "c", "kind": "test.Record"},
            {"id": "free", "kind": "test.Record"},
        ],
        wires=[["a.result", "b.value"], ["b.result", "c.value"], ["c.result", "a.value"], ["free.result", "a.after"]],
    )

    [problem] = problems_of(data)
    assert problem.startswith("node 'a': cycle: nodes 'a', 'b', 'c' depend on each other")
    assert "'free'" not in problem


def test_dangling_wire_to_missing_node() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["wires"].append(["ghost.result", "second.after"])

    [problem] = problems_of(data)
    assert "dangling wire: no node 'ghost' in the diagram" in problem


def test_dangling_wire_to_missing_indicator() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["wires"].append(["second.text", "missing_indicator"])

    [problem] = problems_of(data)
    assert "dangling wire: no indicator 'missing_indicator' on the front panel" in problem


def test_wire_in_wrong_direction() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["wires"].append(["out", "second.after"])
    data["diagram"]["wires"].append(["second.text", "start"])

    problems = problems_of(data)
    assert len(problems) == 2
    assert "indicator 'out' cannot be a wire's source" in problems[0]
    assert "control 'start' cannot be a wire's sink" in problems[1]


def test_duplicate_label() -> None:
    data = copy.deepcopy(VALID)
    data["panel"]["indicators"].append({"id": "other", "label": "Start", "type": "String"})

    [problem] = problems_of(data)
    assert problem == "indicator 'other': duplicate label 'Start', also used by control 'start'"


def test_duplicate_id() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["nodes"].append({"id": "start", "kind": "test.Record"})

    [problem] = problems_of(data)
    assert problem == "node 'start': duplicate id, also used by a control"


def test_every_problem_reported_at_once() -> None:
    data = vi_json(
        nodes=[
            {"id": "unknown", "kind": "no.Such"},
            {"id": "needs", "kind": "test.Needs"},
            {"id": "rec", "kind": "test.Record", "constants": {"value": "x"}},
        ],
        wires=[["ghost.out", "rec.after"], ["rec.text", "rec.also_after"], ["rec.result", "nowhere"]],
        indicators=[{"id": "a", "label": "same", "type": "I32"}, {"id": "b", "label": "same", "type": "I32"}],
    )

    problems = problems_of(data)
    expected = [
        "duplicate label",
        "unknown node kind 'no.Such'",
        "node 'rec' terminal 'value': type mismatch",
        "no node 'ghost'",
        "type mismatch: String cannot be wired",
        "no indicator 'nowhere'",
        "node 'needs' terminal 'data': required input",
        "node 'needs' terminal 'text': required input",
    ]
    assert len(problems) == len(expected)
    for fragment in expected:
        assert any(fragment in problem for problem in problems), fragment


def test_structural_problems_reported_at_once() -> None:
    data = {
        "format": "webvi-vi",
        "version": 2,
        "name": "Broken",
        "extra": True,
        "panel": {"controls": [{"id": "a.b", "label": "x", "type": "I32", "width": 20}]},
        "diagram": {"nodes": [{"kind": "test.Record"}], "wires": [["only one"]]},
    }

    problems = problems_of(data)
    fragments = ["unknown field 'extra'", "format version 2 is not supported", "without dots",
                 "width 20", "missing required field 'id'", "a wire is a pair"]
    assert len(problems) == len(fragments)
    for fragment in fragments:
        assert any(fragment in problem for problem in problems), fragment


def test_invalid_json_text() -> None:
    with pytest.raises(VIError) as caught:
        loads_vi('{"format": "webvi-vi",')

    assert "not valid JSON" in str(caught.value)


def test_unreadable_file(tmp_path) -> None:
    with pytest.raises(VIError, match="cannot read"):
        read_vi(tmp_path / "missing.vi.json")


def test_control_default_checked() -> None:
    data = copy.deepcopy(VALID)
    data["panel"]["controls"][0].update({"default": 50, "minimum": 0, "maximum": 10})
    data["panel"]["controls"].append({"id": "flag", "label": "flag", "type": "Boolean", "default": "yes"})

    problems = problems_of(data)
    assert len(problems) == 2
    assert "default 50 is above maximum 10" in problems[0]
    assert "control 'flag': default \"yes\" does not fit Boolean" in problems[1]


def test_invalid_vi_never_runs() -> None:
    data = copy.deepcopy(VALID)
    data["diagram"]["wires"].append(["ghost.result", "second.after"])
    vi = parse_vi(data)
    recorder = Recorder()

    with pytest.raises(VIError) as caught:
        program = compile_vi(vi, REGISTRY)
        asyncio.run(program.run(services={"recorder": recorder}))

    assert "ghost" in str(caught.value)
    assert recorder.events == []


def test_file_round_trip_keeps_vi(tmp_path) -> None:
    builder = VIBuilder("Round Trip", registry=REGISTRY)
    start = builder.control("start", "I32", default=3, minimum=0, maximum=100, group="inputs", width=4)
    data = builder.control("data", "ByteArray", default=b"\x00\x01")
    first = builder.node("test.Record", value=start, delay_ms=0)
    needs = builder.node("test.Needs", data=data, text="abc")
    merge = builder.node("error.MergeErrors", error_in=[first.error_out, first.error_out])
    builder.indicator("out", first.result)
    builder.indicator("length", needs.length)
    builder.indicator("error out", merge.error_out, display=None)
    text = builder.dumps()
    path = tmp_path / "round.vi.json"
    path.write_text(text)

    loaded = read_vi(path)

    assert loaded == builder.vi
    assert dumps_vi(loaded) == text
    assert json.loads(text)["diagram"]["nodes"][1]["constants"] == {"text": "abc"}
    assert json.loads(text)["panel"]["controls"][1]["default"] == [0, 1]
    assert validate(loaded, REGISTRY) == []


def test_nan_literal_rejected() -> None:
    text = json.dumps(VALID).replace('"default": 0', '"default": NaN')

    with pytest.raises(VIError, match='NaN is not a JSON value; write the string "NaN"'):
        loads_vi(text)


def test_huge_dbl_default_is_a_problem() -> None:
    data = copy.deepcopy(VALID)
    data["panel"]["controls"].append({"id": "big", "label": "big", "type": "DBL", "default": 10**400})

    [problem] = problems_of(data)
    assert "too large for a DBL" in problem


def test_builder_applies_structural_checks() -> None:
    builder = VIBuilder("Checked", registry=REGISTRY)
    builder.control("A", "I32", id="a", width=13)

    with pytest.raises(VIError, match="width 13"):
        builder.build()


def test_builder_accepts_json_form_constants() -> None:
    builder = VIBuilder("Constants", registry=REGISTRY)
    merge = builder.node("error.MergeErrors", error_in=[{"status": True, "code": 56, "source": "x"}])
    builder.indicator("error out", merge.error_out)

    assert builder.to_json()["diagram"]["nodes"][0]["constants"] == {
        "error_in_1": {"status": True, "code": 56, "source": "x"}
    }
    with pytest.raises(ValueError, match="merge_errors_2.error_in_2: 'oops' is not a valid ErrorCluster value"):
        builder.node("error.MergeErrors", error_in=[{}, "oops"])


def test_schema_reference_survives_round_trip() -> None:
    data = copy.deepcopy(VALID)
    data["$schema"] = "../runtime/webvi/diagram/vi.schema.json"

    saved = json.loads(dumps_vi(parse_vi(data)))

    assert saved["$schema"] == data["$schema"]
    assert list(saved)[0] == "$schema"
