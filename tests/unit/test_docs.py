"""Documentation generated from code stays in step with it."""

from __future__ import annotations

from pathlib import Path

from webvi.nodes.reference import palette_reference

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_node_reference_matches_registry() -> None:
    """docs/nodes.md is what `python -m webvi.nodes.reference` writes today."""
    assert (DOCS / "nodes.md").read_text() == palette_reference()


def test_node_reference_lists_every_kind() -> None:
    text = palette_reference()

    for kind in ("http.GET", "http.OpenHandle", "http.ConfigureCORS", "timing.Wait", "error.MergeErrors"):
        assert f"(`{kind}`)" in text
    assert "`diagnose_failures`" in text
