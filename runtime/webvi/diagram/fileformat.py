"""Reading and writing VI files (`*.vi.json`); docs/vi-format.md describes the format.

`parse_vi` checks the file's structure (fields, their JSON types) and collects every
problem before raising; checks that need the node palette live in `validate`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from webvi.diagram.model import FORMAT_NAME, FORMAT_VERSION, VI, Control, Indicator, Node, Wire
from webvi.diagram.problems import Problem, VIError

DISPLAYS = {"String": ("text", "multiline", "password"), "Boolean": ("switch", "led")}
PANEL_FIELDS = {"id", "label", "type", "display", "group", "width", "description"}
CONTROL_FIELDS = PANEL_FIELDS | {"default", "minimum", "maximum"}
NODE_FIELDS = {"id", "kind", "label", "constants"}
TOP_FIELDS = {"format", "version", "name", "description", "run_on_load", "panel", "diagram", "$schema"}


class _Reader:
    """Collects problems while reading fields of JSON objects."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, location: str, message: str) -> None:
        self.problems.append(Problem(location, message))

    def obj(self, value: Any, location: str) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(location, f"expected a JSON object, got {type(value).__name__}")
            return None
        return value

    def unknown_fields(self, data: dict[str, Any], allowed: set[str], location: str) -> None:
        for name in sorted(set(data) - allowed):
            self.problem(location, f"unknown field {name!r}; allowed fields: {', '.join(sorted(allowed))}")

    def field(self, data: dict[str, Any], name: str, kind: type | tuple[type, ...], location: str,
              required: bool = False, default: Any = None) -> Any:
        if name not in data:
            if required:
                self.problem(location, f"missing required field {name!r}")
            return default
        value = data[name]
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            self.problem(location, f"field {name!r} must be {_kind_name(kind)}, got {json.dumps(value)[:80]}")
            return default
        return value

    def identifier(self, data: dict[str, Any], location: str) -> str | None:
        value = self.field(data, "id", str, location, required=True)
        if value is None:
            return None
        if not value or "." in value or value != value.strip():
            self.problem(location, f"id {value!r} must be non-empty, without dots or surrounding spaces")
            return None
        return value

    def items(self, data: dict[str, Any], name: str, location: str) -> list[Any]:
        value = self.field(data, name, list, location, default=[])
        return value if value is not None else []


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {bool: "a Boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return " or ".join(names.get(item, item.__name__) for item in _as_tuple(kind))


def _read_panel_item(reader: _Reader, data: Any, location: str, is_control: bool) -> Control | Indicator | None:
    item = reader.obj(data, location)
    if item is None:
        return None
    item_id = reader.identifier(item, location)
    if item_id is not None:
        location = f"{'control' if is_control else 'indicator'} {item_id!r}"
    reader.unknown_fields(item, CONTROL_FIELDS if is_control else PANEL_FIELDS, location)
    label = reader.field(item, "label", str, location, required=True)
    type_name = reader.field(item, "type", str, location, required=True)
    display = reader.field(item, "display", str, location)
    group = reader.field(item, "group", str, location)
    width = reader.field(item, "width", int, location)
    description = reader.field(item, "description", str, location, default="")
    if label is not None and not label.strip():
        reader.problem(location, "label must not be empty")
    if display is not None and type_name is not None and display not in DISPLAYS.get(type_name, ()):
        allowed = ", ".join(DISPLAYS.get(type_name, ())) or "none"
        reader.problem(location, f"display {display!r} does not apply to {type_name}; allowed: {allowed}")
    if width is not None and not 1 <= width <= 12:
        reader.problem(location, f"width {width} must be a number of grid columns from 1 to 12")
    if item_id is None or label is None or type_name is None:
        return None
    if not is_control:
        return Indicator(item_id, label, type_name, display, group, width, description)

    minimum = reader.field(item, "minimum", (int, float), location)
    maximum = reader.field(item, "maximum", (int, float), location)
    if minimum is not None and maximum is not None and minimum > maximum:
        reader.problem(location, f"minimum {minimum} is greater than maximum {maximum}")
    return Control(item_id, label, type_name, item.get("default"), minimum, maximum, display, group, width, description)


def _read_node(reader: _Reader, data: Any, location: str) -> Node | None:
    item = reader.obj(data, location)
    if item is None:
        return None
    node_id = reader.identifier(item, location)
    if node_id is not None:
        location = f"node {node_id!r}"
    reader.unknown_fields(item, NODE_FIELDS, location)
    kind = reader.field(item, "kind", str, location, required=True)
    label = reader.field(item, "label", str, location)
    constants = reader.field(item, "constants", dict, location, default={})
    if node_id is None or kind is None:
        return None
    return Node(node_id, kind, label, dict(constants or {}))


def _read_wire(reader: _Reader, data: Any, location: str) -> Wire | None:
    if (
        not isinstance(data, list)
        or len(data) != 2
        or not all(isinstance(end, str) and end for end in data)
    ):
        reader.problem(location, f'a wire is a pair of endpoints such as ["open.handle_out", "get.handle"], got {json.dumps(data)[:80]}')
        return None
    return Wire(data[0], data[1])


def parse_vi(data: Any) -> VI:
    """Build a VI from the JSON value of a VI file, raising VIError with every structural problem."""
    reader = _Reader()
    top = reader.obj(data, "VI")
    if top is None:
        raise VIError("?", reader.problems)

    name = reader.field(top, "name", str, "VI", required=True) or "?"
    reader.unknown_fields(top, TOP_FIELDS, "VI")
    if top.get("format") != FORMAT_NAME:
        reader.problem("VI", f'field "format" must be {FORMAT_NAME!r}, got {json.dumps(top.get("format"))}')
    version = top.get("version")
    if type(version) is not int or version != FORMAT_VERSION:
        reader.problem(
            "VI", f"format version {json.dumps(version)} is not supported; this webvi reads version {FORMAT_VERSION}"
        )
    description = reader.field(top, "description", str, "VI", default="")
    run_on_load = reader.field(top, "run_on_load", bool, "VI", default=False)
    schema = reader.field(top, "$schema", str, "VI")

    panel = reader.obj(top.get("panel", {}), "panel") or {}
    reader.unknown_fields(panel, {"controls", "indicators"}, "panel")
    controls = [
        _read_panel_item(reader, item, f"control {index}", True)
        for index, item in enumerate(reader.items(panel, "controls", "panel"))
    ]
    indicators = [
        _read_panel_item(reader, item, f"indicator {index}", False)
        for index, item in enumerate(reader.items(panel, "indicators", "panel"))
    ]

    diagram = reader.obj(top.get("diagram", {}), "diagram") or {}
    reader.unknown_fields(diagram, {"nodes", "wires"}, "diagram")
    nodes = [_read_node(reader, item, f"node {index}") for index, item in enumerate(reader.items(diagram, "nodes", "diagram"))]
    wires = [
        _read_wire(reader, item, f"wire {index + 1}") for index, item in enumerate(reader.items(diagram, "wires", "diagram"))
    ]

    if reader.problems:
        raise VIError(name, reader.problems)
    return VI(
        name=name,
        controls=[item for item in controls if isinstance(item, Control)],
        indicators=[item for item in indicators if isinstance(item, Indicator)],
        nodes=[node for node in nodes if node is not None],
        wires=[wire for wire in wires if wire is not None],
        description=description or "",
        run_on_load=bool(run_on_load),
        version=FORMAT_VERSION,
        schema=schema,
    )


def _reject_constant(name: str) -> Any:
    # Python's json module accepts NaN and Infinity, which are not JSON; the format writes
    # such DBL values as the strings "NaN", "Infinity" and "-Infinity".
    raise ValueError(f'{name} is not a JSON value; write the string "{name}" for a DBL value')


def loads_vi(text: str) -> VI:
    """Parse the text of a VI file."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except (json.JSONDecodeError, ValueError) as error:
        raise VIError("?", [Problem("VI file", f"not valid JSON: {error}")]) from None
    return parse_vi(data)


def read_vi(path: str | Path) -> VI:
    """Read and parse a VI file from disk; problems name the file when the VI's name is unknown."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise VIError(str(path), [Problem("VI file", f"cannot read {path}: {error}")]) from None
    try:
        return loads_vi(text)
    except VIError as error:
        if error.vi_name == "?":
            raise VIError(Path(path).name, error.problems) from None
        raise


def _panel_item_json(item: Control | Indicator) -> dict[str, Any]:
    data: dict[str, Any] = {"id": item.id, "label": item.label, "type": item.type}
    if isinstance(item, Control) and item.default is not None:
        data["default"] = item.default
    optional = {
        "minimum": getattr(item, "minimum", None),
        "maximum": getattr(item, "maximum", None),
        "display": item.display,
        "group": item.group,
        "width": item.width,
    }
    data.update({name: value for name, value in optional.items() if value is not None})
    if item.description:
        data["description"] = item.description
    return data


def vi_to_json(vi: VI) -> dict[str, Any]:
    """Return the JSON value of a VI file for vi, in the field order the format documents."""
    data: dict[str, Any] = {}
    if vi.schema is not None:
        data["$schema"] = vi.schema
    data.update({"format": FORMAT_NAME, "version": vi.version, "name": vi.name})
    if vi.description:
        data["description"] = vi.description
    if vi.run_on_load:
        data["run_on_load"] = True
    data["panel"] = {
        "controls": [_panel_item_json(control) for control in vi.controls],
        "indicators": [_panel_item_json(indicator) for indicator in vi.indicators],
    }
    nodes = []
    for node in vi.nodes:
        item: dict[str, Any] = {"id": node.id, "kind": node.kind}
        if node.label:
            item["label"] = node.label
        if node.constants:
            item["constants"] = dict(node.constants)
        nodes.append(item)
    data["diagram"] = {"nodes": nodes, "wires": [[wire.source, wire.sink] for wire in vi.wires]}
    return data


def _json_list(name: str, items: list[Any], indent: str) -> str:
    if not items:
        return f'{indent}"{name}": []'
    lines = ",\n".join(f"{indent}  {json.dumps(item, ensure_ascii=False)}" for item in items)
    return f'{indent}"{name}": [\n{lines}\n{indent}]'


def dumps_vi(vi: VI) -> str:
    """Return the text of a VI file for vi: indented JSON, one panel item, node or wire per line."""
    data = vi_to_json(vi)
    head = [f'  "{name}": {json.dumps(value, ensure_ascii=False)}' for name, value in data.items()
            if name not in ("panel", "diagram")]
    panel = ",\n".join(_json_list(name, data["panel"][name], "    ") for name in ("controls", "indicators"))
    diagram = ",\n".join(_json_list(name, data["diagram"][name], "    ") for name in ("nodes", "wires"))
    body = ",\n".join([*head, f'  "panel": {{\n{panel}\n  }}', f'  "diagram": {{\n{diagram}\n  }}'])
    return f"{{\n{body}\n}}\n"
