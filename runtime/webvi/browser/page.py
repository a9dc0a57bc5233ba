"""The page's entry point into webvi: services for runs and running VI files."""

from __future__ import annotations

from typing import Any

from webvi.browser.fetch import FetchTransport
from webvi.nodes.http_client import SERVICE, HTTPClientService

_services: dict[str, Any] | None = None


def page_services() -> dict[str, Any]:
    """Return the services every run in this page shares: one HTTP client state and transport."""
    global _services
    if _services is None:
        _services = {SERVICE: HTTPClientService(FetchTransport())}
    return _services
