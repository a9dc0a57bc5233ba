"""VIs as data: the model, the `*.vi.json` file format, validation and a Python builder."""

from webvi.diagram.builder import VIBuilder
from webvi.diagram.fileformat import dumps_vi, loads_vi, parse_vi, read_vi, vi_to_json
from webvi.diagram.model import FORMAT_NAME, FORMAT_VERSION, VI, Control, Indicator, Node, Wire
from webvi.diagram.problems import Problem, VIError
from webvi.diagram.validate import check_vi, validate

__all__ = [
    "FORMAT_NAME", "FORMAT_VERSION", "VI", "Control", "Indicator", "Node", "Problem", "VIBuilder",
    "VIError", "Wire", "check_vi", "dumps_vi", "loads_vi", "parse_vi", "read_vi", "validate", "vi_to_json",
]
