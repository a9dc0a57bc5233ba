"""The VI model: front panel terminals, diagram nodes and wires, as a VI file describes them.

Values here are still JSON values (a byte array is a list of integers); validation turns
them into wire values. Wire endpoints are strings: a panel terminal id (`url`) or a node
terminal (`get.url`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FORMAT_NAME = "webvi-vi"
FORMAT_VERSION = 1


@dataclass
class Control:
    """A front panel control: the VI reads its value when a run starts."""

    id: str
    label: str
    type: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    display: str | None = None
    group: str | None = None
    width: int | None = None
    description: str = ""


@dataclass
class Indicator:
    """A front panel indicator: the VI writes the value of the wire that reaches it."""

    id: str
    label: str
    type: str
    display: str | None = None
    group: str | None = None
    width: int | None = None
    description: str = ""


@dataclass
class Node:
    """A diagram node: a kind from a palette, an id unique in the VI and input constants."""

    id: str
    kind: str
    label: str | None = None
    constants: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Wire:
    """A wire from a source (control or node output) to a sink (indicator or node input)."""

    source: str
    sink: str


@dataclass
class VI:
    """A VI: a name, a front panel (controls and indicators) and a block diagram."""

    name: str
    controls: list[Control] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    wires: list[Wire] = field(default_factory=list)
    description: str = ""
    run_on_load: bool = False
    version: int = FORMAT_VERSION
    # The file's "$schema" reference, kept so that saving a loaded file keeps it.
    schema: str | None = None
