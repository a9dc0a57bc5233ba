"""A Python API that builds a VI and emits the same JSON as a hand-written VI file.

    vi = VIBuilder("Credentialed GET")
    url = vi.control("URL", "String", default="https://api.example.test/data", id="url")
    get = vi.node("http.GET", url=url, timeout_ms=10000)
    vi.indicator("status code", get.status_code, id="status")
    text = vi.dumps()

Keyword arguments of `node` that are a control or a node output become wires; any other
value becomes a constant. A list wires a variadic input (`error_in=[a.error_out, ...]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from webvi.diagram.fileformat import dumps_vi, parse_vi, vi_to_json
from webvi.diagram.model import VI, Control, Indicator, Node, Wire
from webvi.diagram.validate import check_vi
from webvi.nodes.registry import NodeKind, Registry
from webvi.types import DataType, type_named


@dataclass(frozen=True)
class Source:
    """Something a wire can start at: a control (`endpoint` is its id) or a node output."""

    endpoint: str
    data_type: DataType


class NodeRef:
    """A node added to a builder; its outputs are attributes (`get.status_code`)."""

    def __init__(self, node_id: str, kind: NodeKind) -> None:
        self.id = node_id
        self.kind = kind

    def __getattr__(self, name: str) -> Source:
        terminal = self.kind.output_terminals.get(name)
        if terminal is None:
            outputs = ", ".join(self.kind.output_terminals)
            raise AttributeError(f"{self.kind.kind} has no output {name!r}; outputs: {outputs}")
        return Source(f"{self.id}.{name}", terminal.type)


def _constant_json(value: Any, data_type: DataType, where: str) -> Any:
    """Return the JSON form of a constant given as a wire value or already as JSON."""
    if data_type.validate(value) is None:
        return data_type.to_json(value)
    try:
        data_type.parse_json(value)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{where}: {value!r} is not a valid {data_type.name} value: {error}") from None
    return value


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "item"


class VIBuilder:
    """Builds a VI step by step; `build()` validates it against the palette."""

    def __init__(self, name: str, *, description: str = "", run_on_load: bool = False,
                 registry: Registry | None = None) -> None:
        if registry is None:
            from webvi.nodes import default_registry

            registry = default_registry()
        self.registry = registry
        self.vi = VI(name=name, description=description, run_on_load=run_on_load)
        self._ids: set[str] = set()

    def _new_id(self, requested: str | None, base: str) -> str:
        if requested is not None:
            if requested in self._ids:
                raise ValueError(f"id {requested!r} is already used in this VI")
            self._ids.add(requested)
            return requested
        candidate, number = base, 1
        while candidate in self._ids:
            number += 1
            candidate = f"{base}_{number}"
        self._ids.add(candidate)
        return candidate

    def control(self, label: str, type_name: str, *, default: Any = None, id: str | None = None,
                **options: Any) -> Source:
        """Add a control; options are the VI format's optional fields (minimum, display, group, ...)."""
        data_type = type_named(type_name)
        control_id = self._new_id(id, _slug(label))
        json_default = None if default is None else _constant_json(default, data_type, f"control {label!r}")
        self.vi.controls.append(Control(control_id, label, type_name, json_default, **options))
        return Source(control_id, data_type)

    def node(self, kind: NodeKind | str, *, id: str | None = None, label: str | None = None,
             **terminals: Any) -> NodeRef:
        """Add a node of kind; keyword arguments wire or set its inputs."""
        if isinstance(kind, str):
            found = self.registry.get(kind)
            if found is None:
                raise ValueError(f"unknown node kind {kind!r}; known kinds: {', '.join(self.registry.names())}")
            kind = found
        node_id = self._new_id(id, _slug(kind.title))
        node = Node(node_id, kind.kind, label)
        for name, value in terminals.items():
            terminal = kind.input_terminals.get(name)
            if terminal is None:
                inputs = ", ".join(kind.input_terminals)
                raise ValueError(f"{kind.kind} has no input {name!r}; inputs: {inputs}")
            if terminal.variadic:
                for number, item in enumerate(value, start=1):
                    self._connect(node, f"{name}_{number}", item, terminal.type)
            else:
                self._connect(node, name, value, terminal.type)
        self.vi.nodes.append(node)
        return NodeRef(node_id, kind)

    def _connect(self, node: Node, terminal: str, value: Any, data_type: DataType) -> None:
        if isinstance(value, Source):
            self.vi.wires.append(Wire(value.endpoint, f"{node.id}.{terminal}"))
        else:
            node.constants[terminal] = _constant_json(value, data_type, f"{node.id}.{terminal}")

    def indicator(self, label: str, source: Source, *, type_name: str | None = None, id: str | None = None,
                  **options: Any) -> str:
        """Add an indicator wired to source; its type defaults to the source's type."""
        indicator_id = self._new_id(id, _slug(label))
        self.vi.indicators.append(Indicator(indicator_id, label, type_name or source.data_type.name, **options))
        self.vi.wires.append(Wire(source.endpoint, indicator_id))
        return indicator_id

    def wire(self, source: Source, sink: str) -> None:
        """Add a wire to a sink given as text (`node.terminal` or an indicator id)."""
        self.vi.wires.append(Wire(source.endpoint, sink))

    def build(self) -> VI:
        """Return the VI after the checks a loaded file gets; raises VIError listing every problem."""
        parse_vi(vi_to_json(self.vi))
        check_vi(self.vi, self.registry)
        return self.vi

    def to_json(self) -> dict[str, Any]:
        return vi_to_json(self.build())

    def dumps(self) -> str:
        return dumps_vi(self.build())
