"""Write the node reference (docs/nodes.md) from the registry, so it cannot drift from the code.

    python -m webvi.nodes.reference > docs/nodes.md
"""

from __future__ import annotations

import json

from webvi.nodes import default_registry
from webvi.nodes.registry import NodeKind, Terminal

HEADER = """# Node reference

Every node kind webvi ships, with its terminals as a VI file names them
(`node_id.terminal`). Generated from the code by `python -m webvi.nodes.reference`; a
test keeps this page and the code in step. [vi-format.md](vi-format.md) describes the
data types and how values are written; [credentials.md](credentials.md) the HTTP Client
palette's credential rules and error codes.

Nodes with `error_in` and `error_out` follow LabVIEW's standard error behavior: they do
not run when error in carries an error (cleanup nodes excepted), they pass it on and
write default values to their other outputs (a client handle output carries the input
handle).
"""


def _default(terminal: Terminal) -> str:
    return f"`{json.dumps(terminal.type.to_json(terminal.default), ensure_ascii=False)}`"


def _terminal_rows(kind: NodeKind) -> list[str]:
    rows = ["| terminal | direction | type | default | notes |", "| --- | --- | --- | --- | --- |"]
    for terminal in kind.inputs:
        notes = terminal.description
        if terminal.required:
            notes = f"required; {notes}" if notes else "required"
        name = f"`{terminal.name}_1`, `{terminal.name}_2`, ..." if terminal.variadic else f"`{terminal.name}`"
        rows.append(f"| {name} | input | {terminal.type.name} | {_default(terminal)} | {notes} |")
    for terminal in kind.outputs:
        rows.append(f"| `{terminal.name}` | output | {terminal.type.name} | {_default(terminal)} | {terminal.description} |")
    return rows


def palette_reference() -> str:
    """Return the node reference as Markdown."""
    sections = [HEADER.rstrip()]
    for kind in sorted(default_registry(), key=lambda item: item.kind):
        flags = []
        if kind.cleanup:
            flags.append("cleanup node: runs even when error in carries an error")
        if kind.abort_code is not None:
            flags.append(f"reports error {kind.abort_code} when the VI is aborted while it waits")
        lines = [f"## {kind.title} (`{kind.kind}`)", "", kind.description]
        if flags:
            lines += ["", "; ".join(flags).capitalize() + "."]
        lines += ["", *_terminal_rows(kind)]
        sections.append("\n".join(lines))
    return "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    print(palette_reference(), end="")
