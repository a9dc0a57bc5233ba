"""NI's HTTP Client palette on a pluggable transport (the browser's fetch in the page)."""

from webvi.nodes.http_client.handles import ClientHandle, HandleTable
from webvi.nodes.http_client.nodes import KINDS, SERVICE, HTTPClientService
from webvi.nodes.http_client.transport import (
    Diagnosis, DiagnosisReport, FailureKind, HTTPRequest, HTTPResponse, Transport, TransportFailure,
)

__all__ = [
    "KINDS", "SERVICE", "ClientHandle", "Diagnosis", "DiagnosisReport", "FailureKind", "HTTPClientService", "HTTPRequest", "HTTPResponse",
    "HandleTable", "Transport", "TransportFailure",
]
