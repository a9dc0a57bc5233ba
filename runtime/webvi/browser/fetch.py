"""The HTTP transport of the page: the browser's fetch, through the helper in webvi-fetch.mjs.

The helper performs the whole request (fetch, timeout, reading the body). It reports the
outcome once, by calling `_report_outcome` with the request's id and the response's
fields as arguments. The outcome goes to the request's Completion, which resumes the
awaiting node in that same call. Awaiting the helper's promise instead would cost one
more browser task per request.

A body of 1 MiB or more arrives in chunks, each written straight into the bytes object
that becomes the output (webvi.browser.body); a smaller one arrives whole.

Every JavaScript object made for a request is released when `send` returns: the JsProxy
objects here are freed by reference counting, and the helper drops its AbortController
and timer when the request ends. The only long-lived proxies are the three handlers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from pyodide.ffi import JsException, JsProxy, create_proxy, to_js

import webvi_fetch  # registered by webvi-loader.mjs with pyodide.registerJsModule
from webvi.browser.body import StreamedBody, is_streamable
from webvi.engine.completion import Completion
from webvi.nodes.http_client.transport import (
    Diagnosis, DiagnosisReport, FailureKind, HTTPRequest, HTTPResponse, TransportFailure,
)

log = logging.getLogger(__name__)

_FAILURE_KINDS = {kind.value: kind for kind in FailureKind}
_start_request = webvi_fetch.startRequest
_abort_request = webvi_fetch.abortRequest

# Requests in flight, by id; an entry leaves when its outcome arrives or its node stops waiting.
_in_flight: dict[int, Completion[tuple[Any, ...]]] = {}
# Large bodies being received chunk by chunk, by request id.
_bodies: dict[int, StreamedBody] = {}
_request_ids = itertools.count(1)
_handlers: tuple[JsProxy, ...] = ()


def _report_outcome(request_id: int, *outcome: Any) -> None:
    """Deliver a request's outcome; the helper calls this once per request.

    The outcome of a request whose node stopped waiting (an aborted run) is dropped.
    """
    completion = _in_flight.pop(request_id, None)
    streamed = _bodies.pop(request_id, None)
    if completion is None:
        return
    if streamed is not None and outcome[0]:
        # The body field (index 4) is empty when the body arrived in chunks.
        try:
            outcome = (*outcome[:4], streamed.result(), *outcome[5:])
        except MemoryError:
            outcome = (False, FailureKind.OUT_OF_MEMORY.value, _too_large(streamed.received), None)
    completion.deliver(outcome)


def _start_body(request_id: int, length: Any) -> bool:
    """Prepare to receive a body of the announced length in chunks; False makes the helper read it whole."""
    if request_id not in _in_flight or not is_streamable(length):
        return False
    try:
        _bodies[request_id] = StreamedBody(length)
    except MemoryError as error:
        log.info("request %d: reading its body whole instead of in chunks: %s", request_id, error)
        return False
    return True


def _receive_chunk(request_id: int, js_chunk: JsProxy) -> bool:
    """Write a chunk of a streamed body; return False when it does not fit in memory, which stops the download."""
    body = _bodies.get(request_id)
    if body is None:
        return True  # nothing awaits the request any more, and its abort is on the way
    try:
        body.write(js_chunk)
    except Exception as error:  # noqa: BLE001 - the helper only learns that the body could not be stored
        if not isinstance(error, MemoryError):
            log.exception("request %d: storing a chunk of its body failed", request_id)
        del _bodies[request_id]
        return False
    return True


def _too_large(size: int) -> str:
    return f"the body reached {size} bytes"


def requests_in_flight() -> int:
    """Return the number of requests whose outcome Python still awaits; tests check that none is left."""
    return len(_in_flight) + len(_bodies)


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
        global _handlers
        if not _handlers:
            _handlers = tuple(create_proxy(handler) for handler in (_report_outcome, _start_body, _receive_chunk))
            webvi_fetch.setHandlers(*_handlers)

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
            # The outcome may have arrived after the cancel and removed the entries already.
            _in_flight.pop(request_id, None)
            _bodies.pop(request_id, None)
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
    try:
        body = _body_bytes(js_body)
    except (MemoryError, OverflowError):
        raise TransportFailure(FailureKind.OUT_OF_MEMORY, _too_large(js_body.length)) from None
    except JsException as error:
        # Pyodide cannot copy into memory above 2 GiB (see webvi.browser.body).
        if getattr(error, "name", "") != "RangeError":
            raise
        raise TransportFailure(FailureKind.OUT_OF_MEMORY, _too_large(js_body.length)) from None
    return HTTPResponse(
        status=status,
        status_text=status_text,
        headers=_parse_headers(headers),
        body=body,
        url=url,
        redirected=redirected,
    )


def _body_bytes(body: Any) -> bytes:
    """Return the body field as bytes: streamed bodies already are, a Uint8Array is copied."""
    if body is None:
        return b""
    if type(body) is bytes:
        return body
    return body.to_bytes()
