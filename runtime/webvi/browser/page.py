"""The page's entry point into webvi: shared services and one session per front panel.

The JavaScript panel (webvi-panel.mjs) talks to a PanelSession in JSON text, so that no
Python object is converted to JavaScript and no proxy outlives a call except the session
itself, which the panel destroys when it goes away.
"""

from __future__ import annotations

import json
from typing import Any

from webvi.browser.fetch import FetchTransport
from webvi.diagram import VIError, loads_vi
from webvi.diagram.model import Control, Indicator
from webvi.engine import Program, Run, compile_vi
from webvi.nodes.http_client import SERVICE, HTTPClientService

_services: dict[str, Any] | None = None


def page_services() -> dict[str, Any]:
    """Return the services every run in this page shares: one HTTP client state and transport."""
    global _services
    if _services is None:
        _services = {SERVICE: HTTPClientService(FetchTransport())}
    return _services


def _panel_item(item: Control | Indicator, program: Program) -> dict[str, Any]:
    data = {
        "id": item.id,
        "label": item.label,
        "type": item.type,
        "display": item.display,
        "group": item.group,
        "width": item.width,
        "description": item.description,
    }
    if isinstance(item, Control):
        data_type = program.checked.control_types[item.id]
        data["default"] = data_type.to_json(program.checked.control_defaults[item.id])
        data["minimum"] = item.minimum
        data["maximum"] = item.maximum
    return data


class PanelSession:
    """A VI loaded for one front panel: its description, and runs of its diagram."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._run: Run | None = None

    def describe(self) -> str:
        """Return the panel as JSON: name, description, run_on_load, controls and indicators."""
        vi = self.program.vi
        return json.dumps(
            {
                "name": vi.name,
                "description": vi.description,
                "run_on_load": vi.run_on_load,
                "controls": [_panel_item(control, self.program) for control in vi.controls],
                "indicators": [_panel_item(indicator, self.program) for indicator in vi.indicators],
            }
        )

    async def run(self, controls_json: str, js_on_indicator) -> str:
        """Run the diagram once; report each indicator value to js_on_indicator(id, json text).

        Returns the result as JSON text: status, indicators and the run-level error.
        """
        types = self.program.checked.indicator_types
        controls = self.program.controls_from_json(json.loads(controls_json))

        def on_indicator(indicator_id: str, value: Any) -> None:
            js_on_indicator(indicator_id, json.dumps(types[indicator_id].to_json(value)))

        self._run = self.program.start(controls, services=page_services(), on_indicator=on_indicator)
        try:
            result = await self._run.wait()
        finally:
            self._run = None
        return json.dumps(result.to_json(types))

    def abort(self) -> None:
        """Abort the run in progress, if any."""
        if self._run is not None:
            self._run.abort()


def open_panel(vi_text: str) -> PanelSession:
    """Load and validate a VI file's text for a front panel; raises VIError listing every problem."""
    return PanelSession(compile_vi(loads_vi(vi_text)))


def vi_problems(vi_text: str) -> str:
    """Return the problems of a VI file's text as a JSON list of strings (empty when it is valid)."""
    try:
        compile_vi(loads_vi(vi_text))
    except VIError as error:
        return json.dumps([str(problem) for problem in error.problems])
    return "[]"
