"""Problems found while loading or validating a VI, reported all at once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One problem in a VI file: where it is (node id and terminal, wire, panel item) and what."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class VIError(Exception):
    """A VI failed to load or validate; `problems` lists every problem found."""

    def __init__(self, vi_name: str, problems: list[Problem]) -> None:
        self.vi_name = vi_name
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        count = len(problems)
        super().__init__(f"VI {vi_name!r} is invalid ({count} problem{'s' if count != 1 else ''}):\n{lines}")


def node_location(node_id: str, terminal: str | None = None) -> str:
    return f"node {node_id!r}" + (f" terminal {terminal!r}" if terminal else "")


def wire_location(index: int, source: str, sink: str) -> str:
    """Name a wire by its position in the file's wire list, counted from 1, and its endpoints."""
    return f"wire {index + 1} ({source} -> {sink})"
