"""The dataflow engine: compile a VI against a palette and run it on asyncio."""

from __future__ import annotations

from webvi.diagram.model import VI
from webvi.diagram.validate import check_vi
from webvi.engine.scheduler import NodeContext, Program, Run, RunResult
from webvi.nodes.registry import Registry

__all__ = ["NodeContext", "Program", "Run", "RunResult", "compile_vi"]


def compile_vi(vi: VI, registry: Registry | None = None) -> Program:
    """Validate vi and prepare it for running; raise VIError listing every problem.

    registry defaults to every palette webvi ships.
    """
    if registry is None:
        from webvi.nodes import default_registry

        registry = default_registry()
    return Program(check_vi(vi, registry))
