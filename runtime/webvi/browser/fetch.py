"""The HTTP transport of the page: the browser's fetch, through the helper in webvi-fetch.mjs.

The helper performs the whole request (fetch, timeout, reading the body). It reports the
outcome once, by calling `_report_outcome` with the request's id and the response's
fields as arguments. The outcome goes to the request's Completion, which resumes the
awaiting node in that same call. Awaiting the helper's promise instead would cost one
more browser task per request.

Every JavaScript object made for a request is released when `send` returns: the JsProxy
objects here are freed by reference counting, and the helper drops its AbortController
and timer when the request ends. The one long-lived proxy is the outcome handler.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from pyodide.ffi import JsProxy, create_proxy, to_js

import webvi_fetch  # registered by webvi-loader.mjs with pyodide.registerJsModule
from webvi.engine.completion import Completion
from webvi.nodes.http_client.transport import (
    Diagnosis, DiagnosisReport, FailureKind, HTTPRequest, HTTPResponse, TransportFailure,
)

_FAILURE_KINDS = {kind.value: kind for kind in FailureKind}
_start_request = webvi_fetch.startRequest
_abort_request = webvi_fetch.abortRequest

# Requests in flight, by id; an entry leaves when its outcome arrives or its node stops waiting.
_in_flight: dict[int, Completion[tuple[Any, ...]]] = {}
_request_ids = itertools.count(1)
_outcome_handler: JsProxy | None = None


def _report_outcome(request_id: int, *outcome: Any) -> None:
    """Deliver a request's outcome; the helper calls this once per request.

    The outcome of a request whose node stopped waiting (an aborted run) is dropped.
    """
    completion = _in_flight.pop(request_id, None)
    if completion is not None:
        completion.deliver(outcome)


def requests_in_flight() -> int:
    """Return the number of requests whose outcome Python still awaits; tests check that none is left."""
    return len(_in_flight)


def _header_text(headers: tuple[tuple[str, str], ...]) -> str:
    """Join headers as `Name: value` lines for the helper, which splits them again."""
    if not headers:
        return ""
    return "\r\n".join(f"{name}: {value}" for name, value in headers)


def _parse_headers(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for line in text.split("\r\n") if text else ():
        name, _, value = line.partition(": ")
        pairs.append((name, value))
    return tuple(pairs)


class FetchTransport:
    """Sends HTTPRequests with the browser's fetch."""

    def __init__(self) -> None:
        global _outcome_handler
        if _outcome_handler is None:
            _outcome_handler = create_proxy(_report_outcome)
            webvi_fetch.setOutcomeHandler(_outcome_handler)

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        request_id = next(_request_ids)
        completion: Completion[tuple[Any, ...]] = Completion()
        _in_flight[request_id] = completion
        js_body = to_js(request.body) if request.body is not None else None
        _start_request(
            request_id, request.method, request.url, _header_text(request.headers), js_body,
            request.credentials, request.timeout_ms, request.read_body, request.cache,
        )
        try:
            outcome = await completion
        except asyncio.CancelledError:
            del _in_flight[request_id]
            _abort_request(request_id)
            raise
        return _response(*outcome)

    async def diagnose(self, request: HTTPRequest) -> DiagnosisReport:
        """Probe without credentials why a credentialed GET or HEAD failed."""
        header_text = _header_text(request.headers)
        js_report = await webvi_fetch.diagnose(request.method, request.url, header_text, request.timeout_ms)
        try:
            diagnosis = Diagnosis(js_report.diagnosis)
        except ValueError:
            diagnosis = Diagnosis.UNKNOWN
        return DiagnosisReport(diagnosis, js_report.pageOrigin)


def _response(ok: bool, *fields: Any) -> HTTPResponse:
    """Build the response from the helper's fields, or raise the failure it reported."""
    if not ok:
        kind, message, cross_origin = fields
        raise TransportFailure(_FAILURE_KINDS[kind], message, cross_origin)
    status, status_text, headers, js_body, url, redirected = fields
    return HTTPResponse(
        status=status,
        status_text=status_text,
        headers=_parse_headers(headers),
        body=js_body.to_bytes() if js_body is not None else b"",
        url=url,
        redirected=redirected,
    )
