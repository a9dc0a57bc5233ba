"""vi.schema.json against the parser and checker, and the examples in docs/vi-format.md."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from webvi.diagram import VIBuilder, VIError, check_vi, loads_vi, parse_vi
from webvi.engine import compile_vi
from webvi.errors import ErrorCluster
from webvi.nodes import default_registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "vi-format.md"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads((files("webvi.diagram") / "vi.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema)


def schema_errors(validator: Draft202012Validator, document: Any) -> list[str]:
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def webvi_problems(document: Any) -> list[str]:
    """Return the problems parse_vi and then check_vi report for document."""
    try:
        check_vi(parse_vi(document), default_registry())
    except VIError as error:
        return [str(problem) for problem in error.problems]
    return []


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)


# --- the schema itself and what the builder writes ----------------------------------------


def test_schema_is_valid_draft_2020_12(schema: dict[str, Any]) -> None:
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://webvi.invalid/schemas/vi-1.schema.json"


def build_empty() -> VIBuilder:
    return VIBuilder("Empty")


def build_wait_chain() -> VIBuilder:
    vi = VIBuilder("Wait Chain", description="Two waits in a row.", run_on_load=True)
    milliseconds = vi.control("wait (ms)", "U32", default=5, maximum=100, group="timing", width=4)
    first = vi.node("timing.Wait", milliseconds_to_wait=milliseconds)
    second = vi.node("timing.Wait", label="Second Wait", milliseconds_to_wait=7, error_in=first.error_out)
    vi.indicator("timer", second.millisecond_timer_value, description="timer after the second wait")
    return vi


def build_merge_errors() -> VIBuilder:
    vi = VIBuilder("Merge")
    error_in = vi.control("error in", "ErrorCluster", default=ErrorCluster(True, 56, "upstream"))
    wait = vi.node("timing.Wait", milliseconds_to_wait=0, error_in=error_in)
    merge = vi.node("error.MergeErrors", error_in=[wait.error_out, ErrorCluster(False, 5, "a warning")])
    clear = vi.node("error.ClearErrors", error_in=merge.error_out, specific_error_code=56)
    vi.indicator("error out", clear.error_out)
    return vi


def build_every_type() -> VIBuilder:
    vi = VIBuilder("Every Type")
    controls = [
        vi.control("flag", "Boolean", default=True, display="switch"),
        vi.control("count", "I32", default=-3, minimum=-10, maximum=10),
        vi.control("size", "U32", default=4294967295),
        vi.control("ratio", "DBL", default=float("nan")),
        vi.control("limit", "DBL", default=float("-inf")),
        vi.control("text", "String", default="héllo", display="multiline"),
        vi.control("bytes", "ByteArray", default=b"\x00\xff"),
        vi.control("error", "ErrorCluster"),
        vi.control("handle", "HTTPClientHandle", default=0),
    ]
    for source in controls:
        vi.indicator(f"{source.endpoint} out", source)
    return vi


@pytest.mark.parametrize("build", [build_empty, build_wait_chain, build_merge_errors, build_every_type])
def test_builder_output_matches_schema(validator: Draft202012Validator, build: Callable[[], VIBuilder]) -> None:
    document = build().to_json()

    assert schema_errors(validator, document) == []
    assert webvi_problems(document) == []


# --- hand-written documents: where the schema and webvi agree, and where they differ ---------

BASE: dict[str, Any] = {
    "format": "webvi-vi",
    "version": 1,
    "name": "Case",
    "panel": {
        "controls": [{"id": "count", "label": "count", "type": "I32", "default": 1}],
        "indicators": [{"id": "shown", "label": "shown", "type": "I32"}],
    },
    "diagram": {
        "nodes": [{"id": "wait", "kind": "timing.Wait", "constants": {"milliseconds_to_wait": 1}}],
        "wires": [["count", "shown"]],
    },
}


def variant(path: str, value: Any) -> dict[str, Any]:
    """Return a copy of BASE with the value at a slash-separated path replaced (or added)."""
    document = copy.deepcopy(BASE)
    *parents, last = path.split("/")
    target: Any = document
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return document


def without(path: str) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    *parents, last = path.split("/")
    target: Any = document
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    del target[last]
    return document


def control_case(**fields: Any) -> dict[str, Any]:
    """Return BASE with control 0 replaced and no wires, so a type change adds no wire problem."""
    document = variant("panel/controls/0", {"id": "count", "label": "count", **fields})
    document["diagram"]["wires"] = []
    return document


def indicator_case(**fields: Any) -> dict[str, Any]:
    """Return BASE with indicator 0 replaced and no wires."""
    document = variant("panel/indicators/0", {"id": "shown", "label": "shown", **fields})
    document["diagram"]["wires"] = []
    return document


# Each document has exactly one defect, so neither side can reject it for a different reason.
INVALID = {
    "unknown top-level field": variant("author", "someone"),
    "$schema not a string": variant("$schema", 1),
    "version true": variant("version", True),
    "unknown panel field": variant("panel/buttons", []),
    "unknown node field": variant("diagram/nodes/0/position", [0, 0]),
    "missing name": without("name"),
    "missing format": without("format"),
    "wrong format": variant("format", "labview-vi"),
    "version 2": variant("version", 2),
    "version as a string": variant("version", "1"),
    "panel not an object": variant("panel", []),
    "node id with a dot": variant("diagram/nodes/0/id", "wait.1"),
    "control id with a dot": variant("panel/controls/0/id", "count.1"),
    "id with trailing space": variant("panel/controls/0/id", "count "),
    "id with trailing newline": variant("panel/controls/0/id", "count\n"),
    "empty id": variant("diagram/nodes/0/id", ""),
    "blank label": variant("panel/indicators/0/label", "  "),
    "node without kind": without("diagram/nodes/0/kind"),
    "node label not a string": variant("diagram/nodes/0/label", 3),
    "constants not an object": variant("diagram/nodes/0/constants", [1]),
    "wire of three endpoints": variant("diagram/wires/0", ["count", "shown", "wait.error_in"]),
    "wire of one endpoint": variant("diagram/wires/0", ["count"]),
    "wire as a string": variant("diagram/wires/0", "count -> shown"),
    "wire as an object": variant("diagram/wires/0", {"source": "count", "sink": "shown"}),
    "wire with empty endpoint": variant("diagram/wires/0", ["count", ""]),
    "width 13": variant("panel/controls/0/width", 13),
    "width 0": variant("panel/indicators/0/width", 0),
    "width as a string": variant("panel/controls/0/width", "6"),
    "display on I32": variant("panel/controls/0/display", "text"),
    "Boolean display on String": control_case(type="String", display="led"),
    "String display on Boolean": indicator_case(type="Boolean", display="text"),
    "unknown type": indicator_case(type="I64"),
    "indicator with default": variant("panel/indicators/0/default", 1),
    "minimum on String": control_case(type="String", minimum=0),
    "maximum on HTTPClientHandle": control_case(type="HTTPClientHandle", maximum=10),
    "minimum as a Boolean": variant("panel/controls/0/minimum", True),
    "I32 default as a string": variant("panel/controls/0/default", "5"),
    "I32 default out of range": variant("panel/controls/0/default", 2**31),
    "U32 default negative": control_case(type="U32", default=-1),
    "Boolean default as a number": control_case(type="Boolean", default=1),
    "DBL default as a Boolean": control_case(type="DBL", default=True),
    "DBL default as lowercase nan": control_case(type="DBL", default="nan"),
    "String default as a number": control_case(type="String", default=5),
    "ByteArray default above 255": control_case(type="ByteArray", default=[1, 256]),
    "ByteArray default as a string": control_case(type="ByteArray", default="AQI="),
    "ErrorCluster default with extra field": control_case(type="ErrorCluster", default={"code": 1, "message": "x"}),
    "ErrorCluster default with string code": control_case(type="ErrorCluster", default={"code": "56"}),
    "ErrorCluster default as a list": control_case(type="ErrorCluster", default=[True, 56, ""]),
    "HTTPClientHandle default negative": control_case(type="HTTPClientHandle", default=-1),
}


@pytest.mark.parametrize("document", INVALID.values(), ids=INVALID.keys())
def test_invalid_document_rejected_by_both(validator: Draft202012Validator, document: dict[str, Any]) -> None:
    assert schema_errors(validator, document) != [], "the schema accepts the document"
    assert webvi_problems(document) != [], "parse_vi and check_vi accept the document"


VALID = {
    "base document": BASE,
    "$schema field": variant("$schema", "https://webvi.invalid/schemas/vi-1.schema.json"),
    "no panel or diagram": {"format": "webvi-vi", "version": 1, "name": "Bare"},
    "empty panel and diagram": {"format": "webvi-vi", "version": 1, "name": "Bare", "panel": {}, "diagram": {}},
    "null default": variant("panel/controls/0/default", None),
    "id with inner space": control_case(id="the count", type="I32"),
    "DBL default NaN": control_case(type="DBL", default="NaN"),
    "DBL default -Infinity": control_case(type="DBL", default="-Infinity"),
    "DBL default integer": control_case(type="DBL", default=3, minimum=0.5),
    "empty ErrorCluster default": control_case(type="ErrorCluster", default={}),
    "empty ByteArray default": control_case(type="ByteArray", default=[]),
    "password display": control_case(type="String", display="password"),
    "led display": indicator_case(type="Boolean", display="led"),
    "width 1": variant("panel/controls/0/width", 1),
    "width 12": variant("panel/indicators/0/width", 12),
    "node with empty label": variant("diagram/nodes/0/label", ""),
}


@pytest.mark.parametrize("document", VALID.values(), ids=VALID.keys())
def test_valid_document_accepted_by_both(validator: Draft202012Validator, document: dict[str, Any]) -> None:
    assert schema_errors(validator, document) == []
    assert webvi_problems(document) == []


# JSON Schema cannot compare two fields or tell 6.0 from 6. docs/vi-format.md states these gaps.
ACCEPTED_ONLY_BY_SCHEMA = {
    "width 6.0": variant("panel/controls/0/width", 6.0),
    "I32 default 5.0": variant("panel/controls/0/default", 5.0),
    "ErrorCluster code 56.0": control_case(type="ErrorCluster", default={"status": True, "code": 56.0}),
    "minimum above maximum": control_case(type="I32", minimum=5, maximum=1),
    "default above maximum": control_case(type="I32", default=11, maximum=10),
    "duplicate id": variant("panel/indicators/0/id", "count"),
    "duplicate label": variant("panel/indicators/0/label", " COUNT"),
    "version 1.0": variant("version", 1.0),
}


@pytest.mark.parametrize("document", ACCEPTED_ONLY_BY_SCHEMA.values(), ids=ACCEPTED_ONLY_BY_SCHEMA.keys())
def test_schema_gap_rejected_only_by_webvi(validator: Draft202012Validator, document: dict[str, Any]) -> None:
    assert schema_errors(validator, document) == []
    assert webvi_problems(document) != []


# --- docs/vi-format.md ----------------------------------------------------------------------


def test_doc_example_validates_and_compiles(validator: Draft202012Validator) -> None:
    text = code_blocks("json")[0]

    assert schema_errors(validator, json.loads(text)) == []
    program = compile_vi(loads_vi(text))
    assert program.vi_name == "Parallel Waits"
    assert sorted(program.checked.indicator_types) == ["error_out", "timer"]


def test_doc_builder_script_matches_example() -> None:
    script = next(block for block in code_blocks("python") if "VIBuilder(" in block)
    namespace: dict[str, Any] = {}
    exec(script, namespace)  # noqa: S102 - the script is this repository's own documentation
    built = json.loads(namespace["text"])
    example = json.loads(code_blocks("json")[0])

    del example["$schema"]
    assert sorted(built["diagram"].pop("wires")) == sorted(example["diagram"].pop("wires"))
    assert built == example
