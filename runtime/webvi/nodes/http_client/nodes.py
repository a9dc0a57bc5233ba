"""The HTTP Client palette: Open Handle, Configure CORS, the header nodes, the method nodes
and Close Handle, with NI's terminals, defaults and error codes.

Each implementation reads its inputs, checks them (raising NodeError, after which the
engine writes default outputs and the error), does its work and returns its outputs.
Network work goes through the transport in `services["http"]`, so the same nodes run on
the browser's fetch and on a test transport.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from webvi.engine import NodeContext
from webvi.errors import (
    COOKIE_FILE_UNSUPPORTED, HEADER_DROPPED, HEADER_INVALID, HEADER_NOT_FOUND, INVALID_ARGUMENT, INVALID_REFNUM,
    MEMORY_FULL, NETWORK_ERROR, OUTPUT_FILE_UNSUPPORTED, REQUEST_ABORTED, TIMEOUT, URL_INVALID, VERIFY_SERVER_REQUIRED,
)
from webvi.nodes.http_client.handles import ClientHandle, HandleTable
from webvi.nodes.http_client.headers import (
    DEFAULT_CONTENT_TYPE, basic_authorization, decode_body, format_response_headers, header_problem, is_forbidden,
)
from webvi.nodes.http_client.urls import display_url, log_url, split_url
from webvi.nodes.http_client.transport import (
    Diagnosis, DiagnosisReport, FailureKind, HTTPRequest, HTTPResponse, Transport, TransportFailure,
)
from webvi.nodes.registry import NodeError, NodeKind, Terminal
from webvi.types import BOOLEAN, BYTE_ARRAY, ERROR_CLUSTER, HTTP_CLIENT_HANDLE, I32, STRING, U32

log = logging.getLogger(__name__)

SERVICE = "http"
DEFAULT_TIMEOUT_MS = 10_000
CREDENTIALS_HINT = (
    "The request included credentials, so the server must answer with Access-Control-Allow-Origin set to "
    "this page's origin (not *) and with Access-Control-Allow-Credentials: true. If the server does not "
    "accept credentials, set include credentials during CORS to False."
)


class HTTPClientService:
    """The state the HTTP Client nodes share in one runtime: the transport and the open handles."""

    def __init__(self, transport: Transport, handles: HandleTable | None = None) -> None:
        self.transport = transport
        self.handles = handles if handles is not None else HandleTable()


def _service(context: NodeContext) -> HTTPClientService:
    service = context.services.get(SERVICE)
    if service is None:
        raise RuntimeError("the run has no HTTP client service; the host must pass services={'http': ...}")
    return service


def _open_handle_for(context: NodeContext, refnum: int) -> ClientHandle:
    """Return the live handle for refnum, or raise error 1 (0 counts as not open)."""
    handle = _service(context).handles.get(refnum)
    if handle is None:
        raise NodeError(
            INVALID_ARGUMENT,
            f"client handle: {refnum} is not open. Wire the handle out of Open Handle, and close it only once.",
        )
    return handle


# --- handle nodes -----------------------------------------------------------------------


def open_handle(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    if inputs["cookie_file"]:
        raise NodeError(COOKIE_FILE_UNSUPPORTED, f"cookie file: {inputs['cookie_file']}")
    if not inputs["verify_server"]:
        raise NodeError(VERIFY_SERVER_REQUIRED)
    if ":" in inputs["username"]:
        # RFC 7617: Basic authentication joins user and password with the first colon.
        raise NodeError(INVALID_ARGUMENT, "username must not contain a colon, which HTTP Basic authentication cannot send")

    handles = _service(context).handles
    handle = handles.open(inputs["username"], inputs["password"])
    refnum = handle.refnum

    def close_at_run_end() -> None:
        # LabVIEW closes the refnums a VI opened when the VI stops; a run does the same.
        if handles.close(refnum):
            log.debug("closed client handle %d at run end", refnum)

    context.on_run_end(close_at_run_end)
    log.debug("opened client handle %d", refnum)
    return {"handle_out": refnum}


def close_handle(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    refnum = inputs["handle"]
    if not _service(context).handles.close(refnum):
        raise NodeError(INVALID_REFNUM, f"client handle: {refnum}")
    log.debug("closed client handle %d", refnum)
    return {}


def configure_cors(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    handle = _open_handle_for(context, inputs["handle"])
    handle.include_credentials = inputs["include_credentials"]
    handle.diagnose_failures = inputs["diagnose_failures"]
    return {"handle_out": handle.refnum}


def add_header(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    handle = _open_handle_for(context, inputs["handle"])
    # Stored as given; a name or value fetch would reject fails at request time (363651).
    handle.headers[inputs["header"]] = inputs["value"]
    return {"handle_out": handle.refnum}


def delete_header(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    handle = _open_handle_for(context, inputs["handle"])
    handle.headers.pop(inputs["header"], None)
    return {"handle_out": handle.refnum}


def get_header(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    handle = _open_handle_for(context, inputs["handle"])
    name = inputs["header"]
    if name not in handle.headers:
        raise NodeError(HEADER_NOT_FOUND, f"header: {name}")
    return {"handle_out": handle.refnum, "value": handle.headers[name].strip()}


def header_exists(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    handle = _open_handle_for(context, inputs["handle"])
    value = handle.headers.get(inputs["header"])
    return {
        "handle_out": handle.refnum,
        "header_exists": value is not None,
        "value": value.strip() if value is not None else "",
    }


def list_headers(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    handle = _open_handle_for(context, inputs["handle"])
    lines = [f"{name.strip()}: {value.strip()}" for name, value in handle.headers.items()]
    return {"handle_out": handle.refnum, "headers": "\r\n".join(lines)}


# --- method nodes -----------------------------------------------------------------------


# Polling VIs send the same URL again and again, so checked URLs are remembered.
@functools.lru_cache(maxsize=256)
def _check_url(url: str) -> str:
    stripped = url.strip()
    if not stripped:
        raise NodeError(URL_INVALID, "URL: (empty)")
    parts = split_url(stripped)
    problem = parts.port_problem()
    if problem is not None:
        raise NodeError(URL_INVALID, f"URL: {display_url(stripped)}\n{problem}")
    # A URL without a scheme is relative to the page, as in NI's runtime.
    if parts.scheme and parts.scheme.lower() not in ("http", "https"):
        raise NodeError(URL_INVALID, f"URL: {display_url(stripped)}\nonly http and https URLs can be requested")
    if parts.has_userinfo:
        raise NodeError(
            URL_INVALID,
            f"URL: {display_url(stripped)}\nfetch rejects a user name or password in the URL; "
            "wire them to username and password of Open Handle instead",
        )
    return stripped


def _request_headers(handle: ClientHandle | None, has_body: bool) -> tuple[list[tuple[str, str]], list[str]]:
    """Return the headers to send and the names the browser would drop; raise 363651 for invalid ones."""
    headers: list[tuple[str, str]] = []
    dropped: list[str] = []
    stored = handle.headers.items() if handle is not None else ()
    for name, value in stored:
        problem = header_problem(name, value)
        if problem is not None:
            # The value is not shown: it may be a secret such as an Authorization value.
            raise NodeError(HEADER_INVALID, f"header: {name}\n{problem}")
        if is_forbidden(name, value):
            dropped.append(name)
        else:
            headers.append((name, value))
    names = {name.lower() for name, _ in headers}
    if handle is not None and (handle.username or handle.password) and "authorization" not in names:
        headers.append(("Authorization", basic_authorization(handle.username, handle.password)))
    if has_body and "content-type" not in names:
        headers.append(("Content-Type", DEFAULT_CONTENT_TYPE))
    return headers, dropped


def _request_body(inputs: dict[str, Any]) -> bytes:
    text, data = inputs["buffer"], inputs["buffer_bytes"]
    if text and data:
        raise NodeError(INVALID_ARGUMENT, "wire either buffer (a string) or buffer bytes (a byte array), not both")
    return data if data else text.encode("utf-8")


DIAGNOSES = {
    Diagnosis.UNREACHABLE: (
        "Diagnosis: the server could not be reached; a request without credentials failed too, even one "
        "that ignores CORS. Check the URL, that the server is running, and its TLS setup, including a "
        "client certificate the server may require."
    ),
    Diagnosis.ORIGIN_NOT_ALLOWED: (
        "Diagnosis: the server answers, but it does not allow this page's origin ({origin}) at all. It must "
        "send Access-Control-Allow-Origin: {origin} and Access-Control-Allow-Credentials: true."
    ),
    Diagnosis.CREDENTIALS_NOT_ALLOWED: (
        "Diagnosis: the server allows this page's origin ({origin}) without credentials but not with them: "
        "it answers Access-Control-Allow-Origin: * or lacks Access-Control-Allow-Credentials: true. Have it "
        "echo the origin with Access-Control-Allow-Credentials: true, or set include credentials during "
        "CORS to False."
    ),
    Diagnosis.HEADERS_NOT_ALLOWED: (
        "Diagnosis: the server allows this page's origin ({origin}), but its preflight answer does not allow "
        "the request's headers ({headers}). Add them to Access-Control-Allow-Headers on the server, or "
        "delete them from the client handle."
    ),
}


async def _diagnose(transport: Transport, request: HTTPRequest) -> str:
    """Return a diagnosis line for a failed credentialed GET or HEAD, or "" when none is found."""
    diagnose = getattr(transport, "diagnose", None)
    if diagnose is None:
        return ""
    report: DiagnosisReport = await diagnose(request)
    log.info("%s %s failed; probes say: %s", request.method, log_url(request.url), report.diagnosis.value)
    template = DIAGNOSES.get(report.diagnosis)
    if template is None:
        return ""
    names = ", ".join(name for name, _ in request.headers) or "none"
    return template.format(origin=report.page_origin or "this page's origin", headers=names)


def _should_diagnose(handle: ClientHandle | None, request: HTTPRequest, failure: TransportFailure) -> bool:
    """Probe only after a credentialed cross-origin GET or HEAD, which are safe to repeat."""
    return (
        handle is not None
        and handle.diagnose_failures
        and failure.kind is FailureKind.NETWORK
        and request.method in ("GET", "HEAD")
        and request.credentials == "include"
        and failure.cross_origin is not False
    )


NETWORK_FAILED = "The browser could not complete the request."
BODY_INTERRUPTED = (
    "The response arrived, but the connection broke before the whole body did, so this is not a CORS "
    "problem. Check the server and the network, and that any Content-Length the server sends is right."
)
CSP_BLOCKED = (
    "The page's Content-Security-Policy does not allow connecting to this URL, so the browser did not send "
    "the request. Add its origin to the policy's connect-src directive (default-src 'self' alone allows "
    "only the page's own origin)."
)


def _failure_error(failure: TransportFailure, request: HTTPRequest, diagnosis: str = "") -> NodeError:
    url_line = f"URL: {display_url(request.url)}"
    browser_line = f"\nbrowser message: {failure.detail}" if failure.detail else ""
    if failure.kind is FailureKind.BLOCKED_BY_PAGE:
        return NodeError(NETWORK_ERROR, message=f"{CSP_BLOCKED}\n{url_line}{browser_line}")
    if failure.kind is FailureKind.TIMEOUT:
        return NodeError(TIMEOUT, f"{url_line}\ntimeout in ms: {request.timeout_ms}")
    if failure.kind is FailureKind.ABORTED:
        return NodeError(REQUEST_ABORTED, url_line)
    if failure.kind is FailureKind.INVALID_URL:
        return NodeError(URL_INVALID, url_line + browser_line)
    if failure.kind is FailureKind.INVALID_HEADER:
        return NodeError(HEADER_INVALID, url_line + browser_line)
    if failure.kind is FailureKind.OUT_OF_MEMORY:
        return NodeError(MEMORY_FULL, url_line + browser_line)
    if failure.kind is FailureKind.BODY_INTERRUPTED:
        return NodeError(NETWORK_ERROR, message=f"{BODY_INTERRUPTED}\n{url_line}{browser_line}")
    if diagnosis:
        # The diagnosis replaces the general advice, which it may contradict.
        return NodeError(NETWORK_ERROR, message=f"{NETWORK_FAILED}\n{diagnosis}\n{url_line}{browser_line}")
    credentialed_cors = request.credentials == "include" and failure.cross_origin is not False
    hint = f"\n{CREDENTIALS_HINT}" if credentialed_cors else ""
    return NodeError(NETWORK_ERROR, url_line + browser_line + hint)


async def send_request(context: NodeContext, inputs: dict[str, Any], method: str) -> dict[str, Any]:
    """Run one method node: check inputs, send through the transport, format the outputs."""
    has_body = method in ("POST", "PUT")
    refnum = inputs["handle"]
    output_file = inputs.get("output_file", "")

    if output_file:
        raise NodeError(OUTPUT_FILE_UNSUPPORTED, f"output file: {output_file}")
    handle = _open_handle_for(context, refnum) if refnum != 0 else None
    url = _check_url(inputs["url"])
    body = _request_body(inputs) if has_body else None
    headers, dropped = _request_headers(handle, has_body)
    timeout_ms = inputs["timeout_ms"]
    request = HTTPRequest(
        method=method,
        url=url,
        headers=tuple(headers),
        body=body,
        credentials="include" if handle is not None and handle.include_credentials else "same-origin",
        timeout_ms=timeout_ms,
        read_body=method != "HEAD" and (context.is_wired("body") or context.is_wired("body_bytes")),
    )
    if timeout_ms == 0:
        # NI's runtime times a request with timeout 0 out at once; it is never sent.
        raise NodeError(TIMEOUT, f"URL: {display_url(url)}\ntimeout in ms: 0")

    transport = _service(context).transport
    started = time.monotonic()
    try:
        response = await transport.send(request)
    except TransportFailure as failure:
        log.info("%s %s failed: %s", method, log_url(url), failure.kind.value)
        diagnosis = await _diagnose(transport, request) if _should_diagnose(handle, request, failure) else ""
        raise _failure_error(failure, request, diagnosis) from None
    if log.isEnabledFor(logging.INFO):  # skip log_url(), which splits the URL again, when INFO is off
        log.info("%s %s -> %d in %.0f ms", method, log_url(url), response.status, (time.monotonic() - started) * 1000)

    if dropped:
        context.warn(HEADER_DROPPED, "header: " + ", ".join(dropped))
    return _response_outputs(context, refnum, response, method)


def _response_outputs(context: NodeContext, refnum: int, response: HTTPResponse, method: str) -> dict[str, Any]:
    outputs: dict[str, Any] = {"handle_out": refnum, "status_code": response.status}
    if context.is_wired("headers"):
        outputs["headers"] = format_response_headers(response.status, response.status_text, response.headers)
    if method != "HEAD":
        outputs["body_bytes"] = response.body
        if context.is_wired("body"):
            outputs["body"] = decode_body(response.body, response.header("content-type"))
    return outputs


async def get(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return await send_request(context, inputs, "GET")


async def head(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return await send_request(context, inputs, "HEAD")


async def post(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return await send_request(context, inputs, "POST")


async def put(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return await send_request(context, inputs, "PUT")


async def delete(context: NodeContext, inputs: dict[str, Any]) -> dict[str, Any]:
    return await send_request(context, inputs, "DELETE")


# --- node kinds -------------------------------------------------------------------------

HANDLE = Terminal("handle", HTTP_CLIENT_HANDLE, description="client handle; 0 for none")
HANDLE_OUT = Terminal("handle_out", HTTP_CLIENT_HANDLE)
ERROR_IN = Terminal("error_in", ERROR_CLUSTER)
ERROR_OUT = Terminal("error_out", ERROR_CLUSTER)
HEADER_NAME = Terminal("header", STRING, required=True, description="header name, matched exactly")
URL = Terminal("url", STRING, required=True)
TIMEOUT_MS = Terminal(
    "timeout_ms", I32, default=DEFAULT_TIMEOUT_MS, description="0 fails at once (error 56) without sending; negative waits forever"
)
OUTPUT_FILE = Terminal("output_file", STRING, description="must be empty in a browser")
BUFFER = Terminal("buffer", STRING, description="request body as a string, sent as UTF-8")
BUFFER_BYTES = Terminal("buffer_bytes", BYTE_ARRAY, description="request body as raw bytes")
RESPONSE_OUTPUTS = (
    HANDLE_OUT,
    Terminal("headers", STRING, description="status line and the response headers the page may read"),
    Terminal("body", STRING, description="response body decoded with its charset, UTF-8 by default"),
    Terminal("body_bytes", BYTE_ARRAY, description="response body as raw bytes"),
    Terminal("status_code", U32),
    ERROR_OUT,
)
PASS_HANDLE = {"handle_out": "handle"}


def _method_kind(name: str, run, inputs: tuple[Terminal, ...], outputs: tuple[Terminal, ...], text: str) -> NodeKind:
    return NodeKind(
        kind=f"http.{name}",
        title=name,
        inputs=inputs,
        outputs=outputs,
        run=run,
        passthrough=PASS_HANDLE,
        abort_code=REQUEST_ABORTED,
        description=text,
    )


OPEN_HANDLE = NodeKind(
    kind="http.OpenHandle",
    title="Open Handle",
    inputs=(
        Terminal("cookie_file", STRING, description="must be empty: the browser keeps cookies"),
        Terminal("username", STRING),
        Terminal("password", STRING),
        Terminal("verify_server", BOOLEAN, default=True, description="must be True in a browser"),
        ERROR_IN,
    ),
    outputs=(HANDLE_OUT, ERROR_OUT),
    run=open_handle,
    description="Creates a client handle that keeps headers, credentials and CORS settings for requests.",
)

CLOSE_HANDLE = NodeKind(
    kind="http.CloseHandle",
    title="Close Handle",
    inputs=(HANDLE, ERROR_IN),
    outputs=(ERROR_OUT,),
    run=close_handle,
    cleanup=True,
    description="Deletes the handle's headers and credentials; the browser's cookies stay. Runs despite errors.",
)

CONFIGURE_CORS = NodeKind(
    kind="http.ConfigureCORS",
    title="Configure CORS",
    inputs=(
        HANDLE,
        Terminal("include_credentials", BOOLEAN, description="include credentials during CORS"),
        Terminal(
            "diagnose_failures", BOOLEAN, default=True,
            description="webvi: probe without credentials to explain a failed credentialed GET or HEAD",
        ),
        ERROR_IN,
    ),
    outputs=(HANDLE_OUT, ERROR_OUT),
    run=configure_cors,
    passthrough=PASS_HANDLE,
    description='Sets whether cross-origin requests send cookies and credentials (fetch credentials "include").',
)

ADD_HEADER = NodeKind(
    kind="http.AddHeader",
    title="Add Header",
    inputs=(HANDLE, HEADER_NAME, Terminal("value", STRING), ERROR_IN),
    outputs=(HANDLE_OUT, ERROR_OUT),
    run=add_header,
    passthrough=PASS_HANDLE,
    description="Adds a request header to the handle, replacing one of the same exact name.",
)

DELETE_HEADER = NodeKind(
    kind="http.DeleteHeader",
    title="Delete Header",
    inputs=(HANDLE, HEADER_NAME, ERROR_IN),
    outputs=(HANDLE_OUT, ERROR_OUT),
    run=delete_header,
    passthrough=PASS_HANDLE,
    description="Removes a request header from the handle; a missing header is not an error.",
)

GET_HEADER = NodeKind(
    kind="http.GetHeader",
    title="Get Header",
    inputs=(HANDLE, HEADER_NAME, ERROR_IN),
    outputs=(HANDLE_OUT, Terminal("value", STRING), ERROR_OUT),
    run=get_header,
    passthrough=PASS_HANDLE,
    description="Returns the trimmed value of a request header on the handle, or error 363528.",
)

HEADER_EXISTS = NodeKind(
    kind="http.HeaderExists",
    title="Header Exists",
    inputs=(HANDLE, HEADER_NAME, ERROR_IN),
    outputs=(HANDLE_OUT, Terminal("header_exists", BOOLEAN), Terminal("value", STRING), ERROR_OUT),
    run=header_exists,
    passthrough=PASS_HANDLE,
    description="Returns whether the handle has a request header, and its trimmed value.",
)

LIST_HEADERS = NodeKind(
    kind="http.ListHeaders",
    title="List Headers",
    inputs=(HANDLE, ERROR_IN),
    outputs=(HANDLE_OUT, Terminal("headers", STRING), ERROR_OUT),
    run=list_headers,
    passthrough=PASS_HANDLE,
    description="Returns the handle's request headers as `Name: value` lines joined by CRLF.",
)

GET = _method_kind("GET", get, (HANDLE, URL, TIMEOUT_MS, OUTPUT_FILE, ERROR_IN), RESPONSE_OUTPUTS,
                   "Sends a GET request and returns the response.")
DELETE = _method_kind("DELETE", delete, (HANDLE, URL, TIMEOUT_MS, OUTPUT_FILE, ERROR_IN), RESPONSE_OUTPUTS,
                      "Sends a DELETE request and returns the response.")
HEAD = _method_kind(
    "HEAD", head, (HANDLE, URL, TIMEOUT_MS, ERROR_IN),
    (HANDLE_OUT, RESPONSE_OUTPUTS[1], Terminal("status_code", U32), ERROR_OUT),
    "Sends a HEAD request and returns the status and headers.",
)
POST = _method_kind("POST", post, (HANDLE, URL, BUFFER, BUFFER_BYTES, TIMEOUT_MS, OUTPUT_FILE, ERROR_IN),
                    RESPONSE_OUTPUTS, "Sends a POST request with a body and returns the response.")
PUT = _method_kind("PUT", put, (HANDLE, URL, BUFFER, BUFFER_BYTES, TIMEOUT_MS, OUTPUT_FILE, ERROR_IN),
                   RESPONSE_OUTPUTS, "Sends a PUT request with a body and returns the response.")

KINDS = (
    OPEN_HANDLE, CLOSE_HANDLE, CONFIGURE_CORS, ADD_HEADER, DELETE_HEADER, GET_HEADER, HEADER_EXISTS,
    LIST_HEADERS, GET, HEAD, POST, PUT, DELETE,
)
