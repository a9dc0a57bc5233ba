"""The HTTP transport of the page: the browser's fetch, through the helper in webvi-fetch.mjs.

The helper performs the whole request (fetch, timeout, reading the body) in one promise,
so a request costs Python a single await of a JavaScript promise. Every JavaScript object
made for a request is released when `send` returns: the JsProxy objects here are freed by
reference counting as they go out of scope, and the helper drops its AbortController and
timer when the request ends.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from pyodide.ffi import JsProxy, to_js

import webvi_fetch  # registered by webvi-loader.mjs with pyodide.registerJsModule
from webvi.nodes.http_client.transport import (
    Diagnosis, DiagnosisReport, FailureKind, HTTPRequest, HTTPResponse, TransportFailure,
)

log = logging.getLogger(__name__)

_FAILURE_KINDS = {kind.value: kind for kind in FailureKind}


def _header_text(headers: tuple[tuple[str, str], ...]) -> str:
    """Join headers as `Name: value` lines for the helper, which splits them again."""
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
        self._request_ids = itertools.count(1)

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        request_id = next(self._request_ids)
        header_text = _header_text(request.headers)
        js_body = to_js(request.body) if request.body is not None else None
        js_promise = webvi_fetch.sendRequest(
            request_id, request.method, request.url, header_text, js_body, request.credentials,
            request.timeout_ms, request.read_body, request.cache,
        )
        try:
            js_result = await js_promise
        except asyncio.CancelledError:
            webvi_fetch.abortRequest(request_id)
            raise
        return self._convert(js_result)

    async def diagnose(self, request: HTTPRequest) -> DiagnosisReport:
        """Probe without credentials why a credentialed GET or HEAD failed."""
        header_text = _header_text(request.headers)
        js_report = await webvi_fetch.diagnose(request.method, request.url, header_text, request.timeout_ms)
        try:
            diagnosis = Diagnosis(js_report.diagnosis)
        except ValueError:
            diagnosis = Diagnosis.UNKNOWN
        return DiagnosisReport(diagnosis, js_report.pageOrigin)

    @staticmethod
    def _convert(js_result: JsProxy) -> HTTPResponse:
        if not js_result.ok:
            kind = _FAILURE_KINDS[js_result.kind]
            raise TransportFailure(kind, js_result.message, js_result.crossOrigin)
        js_body = js_result.body
        body = b""
        if js_body is not None:
            body = js_body.to_bytes()
        return HTTPResponse(
            status=js_result.status,
            status_text=js_result.statusText,
            headers=_parse_headers(js_result.headers),
            body=body,
            url=js_result.url,
            redirected=js_result.redirected,
        )
