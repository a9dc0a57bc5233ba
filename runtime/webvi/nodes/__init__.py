"""Node palettes and the registry of the node kinds a VI may use."""

from __future__ import annotations

from webvi.nodes.registry import NodeError, NodeKind, Registry, Terminal

__all__ = ["NodeError", "NodeKind", "Registry", "Terminal", "default_registry"]


def default_registry() -> Registry:
    """Return a registry of every palette webvi ships."""
    from webvi.nodes import basic, http_client

    return Registry([*basic.KINDS, *http_client.KINDS])
