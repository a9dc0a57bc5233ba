"""Node kinds and the palette registry that maps a VI file's `kind` to its implementation.

A node kind declares its terminals (name, data type, default, whether an input is
required) and an implementation, `run(context, inputs) -> outputs`, which may be a plain
function or a coroutine function. `inputs` maps every input terminal name to its value
(wired, constant or default). `outputs` maps output names to values, and an output left out
takes its default.

A kind with `error_in` and `error_out` terminals gets LabVIEW's standard error behavior
from the engine: it does not run when error in carries an error (unless it is a cleanup
node such as Close Handle), its error out is computed by the engine, and a failure is
reported by raising `NodeError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from webvi.errors import describe
from webvi.types import ERROR_CLUSTER, DataType

if TYPE_CHECKING:
    from webvi.engine import NodeContext

TERMINAL_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_VARIADIC = 256

Implementation = Callable[["NodeContext", dict[str, Any]], Any]


class NodeError(Exception):
    """Raised by a node implementation to report an error cluster on its error out.

    message defaults to the error table's text for code; context adds lines such as the
    URL or header name involved. The engine adds the `<node> in <VI>` source line.
    """

    def __init__(self, code: int, context: str = "", message: str | None = None) -> None:
        self.code = code
        self.message = describe(code, context) if message is None else message
        super().__init__(f"error {code}: {self.message}")


@dataclass(frozen=True)
class Terminal:
    """A node terminal: name (snake_case), data type, default value and whether it must be wired.

    A variadic input stands for the terminals `<name>_1`, `<name>_2`, ... that a VI may
    wire (LabVIEW's growable nodes); the implementation receives them as a list.
    """

    name: str
    type: DataType
    default: Any = None
    required: bool = False
    variadic: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        if not TERMINAL_NAME.match(self.name):
            raise ValueError(f"terminal name {self.name!r} is not snake_case")
        if self.default is None:
            object.__setattr__(self, "default", self.type.default)
        problem = self.type.validate(self.default)
        if problem:
            raise ValueError(f"default of terminal {self.name!r}: {problem}")


@dataclass(frozen=True, eq=False)
class NodeKind:
    """A kind of node: its id in VI files (`palette.Name`), title, terminals and implementation."""

    kind: str
    title: str
    inputs: tuple[Terminal, ...]
    outputs: tuple[Terminal, ...]
    run: Implementation
    # Runs even when error in carries an error, like Close Handle.
    cleanup: bool = False
    # Output -> input whose value the output carries when the node skips or fails.
    passthrough: Mapping[str, str] = field(default_factory=dict)
    # Error code that an in-flight node reports on error out when its run is aborted.
    abort_code: int | None = None
    # The implementation computes error out itself (Merge Errors, Clear Errors).
    custom_errors: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        # Looked up for every node and wire of every VI, so built once here.
        object.__setattr__(self, "_inputs_by_name", {terminal.name: terminal for terminal in self.inputs})
        object.__setattr__(self, "_outputs_by_name", {terminal.name: terminal for terminal in self.outputs})
        names = [terminal.name for terminal in (*self.inputs, *self.outputs)]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"node kind {self.kind}: duplicate terminal names {sorted(duplicates)}")
        for output, source in self.passthrough.items():
            if output not in self.output_terminals or source not in self.input_terminals:
                raise ValueError(f"node kind {self.kind}: passthrough {output} <- {source} names unknown terminals")

    @property
    def input_terminals(self) -> dict[str, Terminal]:
        return self._inputs_by_name

    @property
    def output_terminals(self) -> dict[str, Terminal]:
        return self._outputs_by_name

    @property
    def standard_errors(self) -> bool:
        """Whether the engine applies standard error behavior (error in and error out present)."""
        inputs, outputs = self.input_terminals, self.output_terminals
        return (
            not self.custom_errors
            and "error_in" in inputs
            and not inputs["error_in"].variadic
            and inputs["error_in"].type is ERROR_CLUSTER
            and outputs.get("error_out") is not None
            and outputs["error_out"].type is ERROR_CLUSTER
        )

    def find_input(self, name: str) -> tuple[Terminal, int | None] | None:
        """Return the input terminal for a terminal name and its variadic index, or None."""
        terminal = self.input_terminals.get(name)
        if terminal is not None and not terminal.variadic:
            return terminal, None
        base, _, index = name.rpartition("_")
        terminal = self.input_terminals.get(base)
        if terminal is not None and terminal.variadic and index.isdigit() and not index.startswith("0"):
            if 1 <= int(index) <= MAX_VARIADIC:
                return terminal, int(index)
        return None


class Registry:
    """The node kinds a VI may use, by kind id."""

    def __init__(self, kinds: Iterable[NodeKind] = ()) -> None:
        self._kinds: dict[str, NodeKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: NodeKind) -> NodeKind:
        if kind.kind in self._kinds and self._kinds[kind.kind] is not kind:
            raise ValueError(f"node kind {kind.kind} is already registered")
        self._kinds[kind.kind] = kind
        return kind

    def get(self, kind: str) -> NodeKind | None:
        return self._kinds.get(kind)

    def __contains__(self, kind: str) -> bool:
        return kind in self._kinds

    def __iter__(self):
        return iter(self._kinds.values())

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def extended(self, kinds: Iterable[NodeKind]) -> Registry:
        """Return a new registry with these kinds added to this one's."""
        return Registry([*self._kinds.values(), *kinds])
