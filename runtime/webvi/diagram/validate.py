"""Validation of a VI against a node palette, reporting every problem at once.

`check_vi` resolves each node's kind, each wire's endpoints, types and coercion, each
constant's value and the order in which nodes depend on each other. A VI that passes
becomes a `CheckedVI`, which is what the engine runs. The problems it reports: an unknown node
kind, an unknown terminal, a type mismatch, an input with two wires, a required input left
unwired, a cycle, a dangling wire (an endpoint that names nothing), a wire in the wrong
direction, a duplicate id and a duplicate label.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webvi.diagram.model import VI, Control, Indicator, Node
from webvi.diagram.problems import Problem, VIError, node_location, wire_location
from webvi.nodes.registry import NodeKind, Registry
from webvi.types import DataType, coercion, type_named


@dataclass(frozen=True)
class Endpoint:
    """A resolved wire end: a panel terminal, or a node terminal with its variadic index."""

    text: str
    data_type: DataType
    panel_id: str | None = None
    node_id: str | None = None
    terminal: str | None = None
    base_terminal: str | None = None
    variadic_index: int | None = None


@dataclass(frozen=True)
class CheckedWire:
    source: Endpoint
    sink: Endpoint
    convert: Callable[[Any], Any] | None


@dataclass
class CheckedNode:
    """A node with its kind, its constant inputs (as wire values) and its wired terminals."""

    node: Node
    kind: NodeKind
    constants: dict[str, Any] = field(default_factory=dict)
    wired_inputs: set[str] = field(default_factory=set)
    # Highest variadic index used per variadic terminal, by wire or constant.
    variadic_sizes: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The node's name in error sources: its label, else its kind's title."""
        return self.node.label or self.kind.title


@dataclass
class CheckedVI:
    """A VI that passed validation, with everything the engine needs resolved."""

    vi: VI
    control_types: dict[str, DataType]
    control_defaults: dict[str, Any]
    indicator_types: dict[str, DataType]
    nodes: dict[str, CheckedNode]
    wires: list[CheckedWire]
    order: list[str]  # node ids, each after every node it depends on


def _describe(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Checker:
    def __init__(self, vi: VI, registry: Registry) -> None:
        self.vi = vi
        self.registry = registry
        self.problems: list[Problem] = []
        self.control_types: dict[str, DataType] = {}
        self.control_defaults: dict[str, Any] = {}
        self.indicator_types: dict[str, DataType] = {}
        self.nodes: dict[str, CheckedNode] = {}
        self.wires: list[CheckedWire] = []

    def problem(self, location: str, message: str) -> None:
        self.problems.append(Problem(location, message))

    # --- panel --------------------------------------------------------------------------

    def check_panel(self) -> None:
        labels: dict[str, str] = {}
        for item in [*self.vi.controls, *self.vi.indicators]:
            role = "control" if isinstance(item, Control) else "indicator"
            location = f"{role} {item.id!r}"
            previous = labels.get(item.label.strip().casefold())
            if previous is not None:
                self.problem(location, f"duplicate label {item.label!r}, also used by {previous}")
            else:
                labels[item.label.strip().casefold()] = location
            try:
                data_type = type_named(item.type)
            except KeyError as error:
                self.problem(location, str(error.args[0]))
                continue
            if isinstance(item, Indicator):
                self.indicator_types[item.id] = data_type
            else:
                self.check_control(item, data_type, location)

    def check_control(self, control: Control, data_type: DataType, location: str) -> None:
        self.control_types[control.id] = data_type
        if control.default is None:
            self.control_defaults[control.id] = data_type.default
        else:
            try:
                self.control_defaults[control.id] = data_type.parse_json(control.default)
            except ValueError as error:
                self.problem(location, f"default {_describe(control.default)} does not fit {data_type.name}: {error}")
        if (control.minimum is not None or control.maximum is not None) and not data_type.numeric:
            self.problem(location, f"minimum and maximum apply to numeric controls, not {data_type.name}")
        default = self.control_defaults.get(control.id)
        if data_type.numeric and isinstance(default, (int, float)):
            if control.minimum is not None and default < control.minimum:
                self.problem(location, f"default {default} is below minimum {control.minimum}")
            if control.maximum is not None and default > control.maximum:
                self.problem(location, f"default {default} is above maximum {control.maximum}")

    # --- nodes --------------------------------------------------------------------------

    def check_ids(self) -> None:
        seen: dict[str, str] = {}
        for role, items in (("control", self.vi.controls), ("indicator", self.vi.indicators), ("node", self.vi.nodes)):
            for item in items:
                if item.id in seen:
                    self.problem(f"{role} {item.id!r}", f"duplicate id, also used by a {seen[item.id]}")
                else:
                    seen[item.id] = role

    def check_nodes(self) -> None:
        for node in self.vi.nodes:
            if node.id in self.nodes:
                continue  # reported by check_ids
            kind = self.registry.get(node.kind)
            if kind is None:
                self.problem(node_location(node.id), f"unknown node kind {node.kind!r}; known kinds: {', '.join(self.registry.names())}")
                continue
            checked = CheckedNode(node, kind)
            self.nodes[node.id] = checked
            for name, raw in node.constants.items():
                self.check_constant(checked, name, raw)

    def check_constant(self, checked: CheckedNode, name: str, raw: Any) -> None:
        location = node_location(checked.node.id, name)
        found = checked.kind.find_input(name)
        if found is None:
            self.problem(location, f"unknown input terminal of {checked.kind.kind}; inputs: {self.input_names(checked.kind)}")
            return
        terminal, index = found
        try:
            checked.constants[name] = terminal.type.parse_json(raw)
        except ValueError as error:
            self.problem(location, f"type mismatch: constant {_describe(raw)} is not a valid {terminal.type.name} value: {error}")
        if index is not None:
            checked.variadic_sizes[terminal.name] = max(index, checked.variadic_sizes.get(terminal.name, 0))

    @staticmethod
    def input_names(kind: NodeKind) -> str:
        return ", ".join(f"{t.name}_1, {t.name}_2, ..." if t.variadic else t.name for t in kind.inputs)

    # --- wires --------------------------------------------------------------------------

    def resolve(self, text: str, location: str, as_source: bool) -> Endpoint | None:
        node_id, dot, terminal_name = text.partition(".")
        if not dot:
            return self.resolve_panel(text, location, as_source)
        checked = self.nodes.get(node_id)
        if checked is None:
            known = any(node.id == node_id for node in self.vi.nodes)
            if not known:
                self.problem(location, f"dangling wire: no node {node_id!r} in the diagram")
            return None  # a node of unknown kind was already reported
        kind = checked.kind
        if as_source:
            terminal = kind.output_terminals.get(terminal_name)
            if terminal is None:
                direction = " (an input cannot be a wire's source)" if kind.find_input(terminal_name) else ""
                outputs = ", ".join(t.name for t in kind.outputs)
                self.problem(location, f"unknown output terminal {text!r}{direction}; outputs of {kind.kind}: {outputs}")
                return None
            return Endpoint(text, terminal.type, node_id=node_id, terminal=terminal_name, base_terminal=terminal_name)
        found = kind.find_input(terminal_name)
        if found is None:
            direction = " (an output cannot be a wire's sink)" if terminal_name in kind.output_terminals else ""
            self.problem(location, f"unknown input terminal {text!r}{direction}; inputs of {kind.kind}: {self.input_names(kind)}")
            return None
        terminal, index = found
        return Endpoint(text, terminal.type, node_id=node_id, terminal=terminal_name, base_terminal=terminal.name, variadic_index=index)

    def resolve_panel(self, text: str, location: str, as_source: bool) -> Endpoint | None:
        if as_source:
            if text in self.control_types:
                return Endpoint(text, self.control_types[text], panel_id=text)
            if text in self.indicator_types:
                self.problem(location, f"indicator {text!r} cannot be a wire's source; wire from a control or node output")
            elif not any(item.id == text for item in self.vi.controls):
                self.problem(location, f"dangling wire: no control {text!r} on the front panel")
            return None
        if text in self.indicator_types:
            return Endpoint(text, self.indicator_types[text], panel_id=text)
        if text in self.control_types:
            self.problem(location, f"control {text!r} cannot be a wire's sink; wire to an indicator or node input")
        elif not any(item.id == text for item in self.vi.indicators):
            self.problem(location, f"dangling wire: no indicator {text!r} on the front panel")
        return None

    def check_wires(self) -> None:
        sinks: dict[str, int] = {}
        for index, wire in enumerate(self.vi.wires):
            location = wire_location(index, wire.source, wire.sink)
            source = self.resolve(wire.source, location, as_source=True)
            sink = self.resolve(wire.sink, location, as_source=False)
            if sink is not None:
                if sink.text in sinks:
                    self.problem(location, f"{self.sink_name(sink)} already has a wire (wire {sinks[sink.text] + 1}); an input takes one wire")
                    continue
                sinks[sink.text] = index
            if source is None or sink is None:
                continue
            try:
                convert = coercion(source.data_type, sink.data_type)
            except TypeError as error:
                self.problem(location, f"type mismatch: {error}")
                continue
            self.wires.append(CheckedWire(source, sink, convert))
            if sink.node_id is not None:
                checked = self.nodes[sink.node_id]
                checked.wired_inputs.add(sink.terminal)
                if sink.variadic_index is not None:
                    base = sink.base_terminal
                    checked.variadic_sizes[base] = max(sink.variadic_index, checked.variadic_sizes.get(base, 0))
                if sink.terminal in checked.constants:
                    self.problem(location, f"{self.sink_name(sink)} has both a wire and a constant; remove one")

    @staticmethod
    def sink_name(sink: Endpoint) -> str:
        if sink.node_id is not None:
            return f"node {sink.node_id!r} terminal {sink.terminal!r}"
        return f"indicator {sink.panel_id!r}"

    def check_required(self) -> None:
        for node_id, checked in self.nodes.items():
            for terminal in checked.kind.inputs:
                if not terminal.required or terminal.variadic:
                    continue
                if terminal.name not in checked.wired_inputs and terminal.name not in checked.constants:
                    self.problem(node_location(node_id, terminal.name), "required input is not wired and has no constant")

    def order_nodes(self) -> list[str]:
        """Sort nodes so that each comes after the nodes it depends on; report cycles."""
        downstream: dict[str, list[str]] = {node_id: [] for node_id in self.nodes}
        pending = dict.fromkeys(self.nodes, 0)
        for wire in self.wires:
            if wire.source.node_id is not None and wire.sink.node_id is not None:
                downstream[wire.source.node_id].append(wire.sink.node_id)
                pending[wire.sink.node_id] += 1
        ready = [node_id for node_id, count in pending.items() if count == 0]
        order: list[str] = []
        while ready:
            node_id = ready.pop()
            order.append(node_id)
            for target in downstream[node_id]:
                pending[target] -= 1
                if pending[target] == 0:
                    ready.append(target)
        if len(order) < len(self.nodes):
            in_cycle = sorted(node_id for node_id, count in pending.items() if count > 0)
            shown = ", ".join(repr(node_id) for node_id in in_cycle[:10]) + (", ..." if len(in_cycle) > 10 else "")
            self.problem(
                node_location(in_cycle[0]),
                f"cycle: nodes {shown} depend on each other's outputs, so none of them can start",
            )
        return order


def check_vi(vi: VI, registry: Registry) -> CheckedVI:
    """Validate vi against registry and return its resolved form; raise VIError with every problem."""
    checker = _Checker(vi, registry)
    checker.check_ids()
    checker.check_panel()
    checker.check_nodes()
    checker.check_wires()
    checker.check_required()
    order = checker.order_nodes()
    if checker.problems:
        raise VIError(vi.name, checker.problems)
    return CheckedVI(
        vi=vi,
        control_types=checker.control_types,
        control_defaults=checker.control_defaults,
        indicator_types=checker.indicator_types,
        nodes=checker.nodes,
        wires=checker.wires,
        order=order,
    )


def validate(vi: VI, registry: Registry) -> list[Problem]:
    """Return every problem of vi against registry; an empty list means the VI can run."""
    try:
        check_vi(vi, registry)
    except VIError as error:
        return error.problems
    return []
