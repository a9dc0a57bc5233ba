"""The HTTP Client palette on CPython, through a transport that records requests."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from webvi.diagram import VIBuilder
from webvi.engine import RunResult, compile_vi
from webvi.errors import ErrorCluster
from webvi.nodes.http_client import (
    Diagnosis, DiagnosisReport, FailureKind, HandleTable, HTTPClientService, HTTPRequest, HTTPResponse,
    TransportFailure,
)
from webvi.nodes.http_client.headers import basic_authorization, decode_body, format_response_headers, response_charset


@dataclass
class RecordingTransport:
    """A transport that responds to every request with `respond(request)` and records the requests."""

    respond: Callable[[HTTPRequest], HTTPResponse] = lambda request: HTTPResponse(200, "OK", (("content-type", "text/plain"),), b"hello")
    delay_s: float = 0.0
    requests: list[HTTPRequest] = field(default_factory=list)
    cancelled: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    async def send(self, request: HTTPRequest) -> HTTPResponse:
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        return self.respond(request)


def failing(kind: FailureKind, detail: str = "TypeError: Failed to fetch", cross_origin: bool | None = True):
    def respond(request: HTTPRequest) -> HTTPResponse:
        raise TransportFailure(kind, detail, cross_origin)

    return respond


class Harness:
    """Builds a VI with the HTTP palette and runs it against one transport and handle table."""

    def __init__(self, transport: RecordingTransport | None = None) -> None:
        self.transport = transport or RecordingTransport()
        self.service = HTTPClientService(self.transport, HandleTable())
        self.vi = VIBuilder("HTTP Test")

    def run(self, controls: dict[str, Any] | None = None) -> RunResult:
        program = compile_vi(self.vi.build())
        return asyncio.run(program.run(controls, services={"http": self.service}))


def open_chain(h: Harness, **open_inputs: Any):
    """Open Handle wired into the VI; returns the node."""
    return h.vi.node("http.OpenHandle", **open_inputs)


# --- Open Handle, Close Handle and the handle table ------------------------------------


def test_open_handle_returns_new_refnums() -> None:
    h = Harness()
    first = open_chain(h)
    second = open_chain(h)
    h.vi.indicator("first", first.handle_out)
    h.vi.indicator("second", second.handle_out)

    result = h.run()

    assert {result.indicators["first"], result.indicators["second"]} == {1, 2}


def test_open_handle_rejects_cookie_file() -> None:
    h = Harness()
    node = open_chain(h, cookie_file="/tmp/cookies.txt")
    h.vi.indicator("handle", node.handle_out)
    h.vi.indicator("error", node.error_out)

    result = h.run()

    assert result.indicators["handle"] == 0
    assert result.indicators["error"].code == 363652
    assert "cookie file: /tmp/cookies.txt" in result.indicators["error"].source
    assert len(h.service.handles) == 0


def test_open_handle_requires_verify_server() -> None:
    h = Harness()
    node = open_chain(h, verify_server=False)
    h.vi.indicator("error", node.error_out)

    assert h.run().indicators["error"].code == 363653


def test_open_handle_skips_on_error() -> None:
    h = Harness()
    error = h.vi.control("error in", "ErrorCluster", default=ErrorCluster(True, 7, "Caller"))
    node = open_chain(h, error_in=error)
    h.vi.indicator("handle", node.handle_out)

    assert h.run().indicators["handle"] == 0
    assert len(h.service.handles) == 0


def test_handle_life_cycle() -> None:
    """Open, use, close, close again, use after close, through the nodes."""
    h = Harness()
    opened = open_chain(h)
    added = h.vi.node("http.AddHeader", handle=opened.handle_out, header="X-Token", value="t", error_in=opened.error_out)
    closed = h.vi.node("http.CloseHandle", handle=added.handle_out, error_in=added.error_out)
    again = h.vi.node("http.CloseHandle", handle=added.handle_out, error_in=closed.error_out)
    cleared = h.vi.node("error.ClearErrors", error_in=again.error_out)
    used = h.vi.node("http.ListHeaders", handle=added.handle_out, error_in=cleared.error_out)
    h.vi.indicator("closed", closed.error_out)
    h.vi.indicator("closed again", again.error_out)
    h.vi.indicator("used after close", used.error_out)

    result = h.run()

    assert result.indicators["closed"] == ErrorCluster.NO_ERROR
    assert result.indicators["closed_again"].code == -1967362020
    assert result.indicators["used_after_close"].code == 1
    assert "client handle: 1 is not open" in result.indicators["used_after_close"].source


def test_close_handle_runs_despite_error_and_keeps_it() -> None:
    h = Harness()
    opened = open_chain(h)
    failed = h.vi.node("http.GetHeader", handle=opened.handle_out, header="Missing", error_in=opened.error_out)
    closed = h.vi.node("http.CloseHandle", handle=failed.handle_out, error_in=failed.error_out)
    h.vi.indicator("error", closed.error_out)

    result = h.run()

    assert result.indicators["error"].code == 363528
    assert len(h.service.handles) == 0


def test_close_handle_zero_reports_invalid_refnum() -> None:
    h = Harness()
    closed = h.vi.node("http.CloseHandle")
    h.vi.indicator("error", closed.error_out)

    error = h.run().indicators["error"]
    assert error.code == -1967362020
    assert error.source.startswith("Close Handle in HTTP Test\n")


def test_close_handle_wipes_credentials_and_headers() -> None:
    table = HandleTable()
    handle = table.open("operator", "s3cret")
    handle.headers["Authorization"] = "Bearer abc"
    handle.include_credentials = True

    assert table.close(handle.refnum) is True
    assert (handle.username, handle.password, handle.headers, handle.include_credentials) == ("", "", {}, False)
    assert table.close(handle.refnum) is False
    assert table.get(handle.refnum) is None


def test_handle_repr_hides_secrets() -> None:
    handle = HandleTable().open("operator", "s3cret")
    handle.headers["Authorization"] = "Bearer abc"

    text = repr(handle)
    assert "s3cret" not in text
    assert "Bearer abc" not in text
    assert "Authorization" in text


def test_handles_closed_when_run_ends() -> None:
    h = Harness()
    opened = open_chain(h)
    h.vi.indicator("handle", opened.handle_out)

    result = h.run()

    assert result.indicators["handle"] == 1
    assert len(h.service.handles) == 0


def test_refnums_are_not_reused() -> None:
    table = HandleTable()
    first = table.open()
    table.close(first.refnum)

    assert table.open().refnum == first.refnum + 1


# --- Configure CORS and the header nodes ------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["http.ConfigureCORS", "http.AddHeader", "http.DeleteHeader", "http.GetHeader", "http.HeaderExists",
             "http.ListHeaders"],
)
def test_handle_nodes_reject_handle_zero(kind: str) -> None:
    h = Harness()
    inputs = {"header": "X"} if "Header" in kind and kind != "http.ListHeaders" else {}
    node = h.vi.node(kind, **inputs)
    h.vi.indicator("error", node.error_out)
    h.vi.indicator("handle", node.handle_out)

    result = h.run()

    assert result.indicators["error"].code == 1
    assert result.indicators["handle"] == 0


def header_vi(h: Harness, headers: list[tuple[str, str]]):
    """Open a handle and add headers in order; returns the last node."""
    node = open_chain(h)
    for name, value in headers:
        node = h.vi.node("http.AddHeader", handle=node.handle_out, header=name, value=value, error_in=node.error_out)
    return node


def test_header_nodes_follow_ni_semantics() -> None:
    h = Harness()
    node = header_vi(h, [("Rick", " Sanchez "), ("Mor ty", "Smith"), ("rick", "lower"), ("Rick", "Replaced ")])
    got = h.vi.node("http.GetHeader", handle=node.handle_out, header="Rick", error_in=node.error_out)
    exists = h.vi.node("http.HeaderExists", handle=got.handle_out, header="RICK", error_in=got.error_out)
    deleted = h.vi.node("http.DeleteHeader", handle=exists.handle_out, header="rick", error_in=exists.error_out)
    gone = h.vi.node("http.DeleteHeader", handle=deleted.handle_out, header="never-added", error_in=deleted.error_out)
    listed = h.vi.node("http.ListHeaders", handle=gone.handle_out, error_in=gone.error_out)
    h.vi.indicator("value", got.value)
    h.vi.indicator("exists", exists.header_exists)
    h.vi.indicator("exists value", exists.value)
    h.vi.indicator("list", listed.headers)
    h.vi.indicator("error", listed.error_out)

    result = h.run()

    assert result.indicators["value"] == "Replaced"
    assert result.indicators["exists"] is False
    assert result.indicators["exists_value"] == ""
    assert result.indicators["list"] == "Rick: Replaced\r\nMor ty: Smith"
    assert result.indicators["error"] == ErrorCluster.NO_ERROR


def test_get_header_missing_reports_363528() -> None:
    h = Harness()
    node = header_vi(h, [("X-One", "1")])
    got = h.vi.node("http.GetHeader", handle=node.handle_out, header="X-Two", error_in=node.error_out)
    h.vi.indicator("value", got.value)
    h.vi.indicator("error", got.error_out)
    h.vi.indicator("handle", got.handle_out)

    result = h.run()

    assert result.indicators["value"] == ""
    assert result.indicators["error"].code == 363528
    assert result.indicators["error"].source.endswith("header: X-Two")
    assert result.indicators["handle"] == 1


def test_header_exists_found() -> None:
    h = Harness()
    node = header_vi(h, [("X-One", "  spaced  ")])
    exists = h.vi.node("http.HeaderExists", handle=node.handle_out, header="X-One", error_in=node.error_out)
    h.vi.indicator("exists", exists.header_exists)
    h.vi.indicator("value", exists.value)

    result = h.run()

    assert result.indicators["exists"] is True
    assert result.indicators["value"] == "spaced"


def test_list_headers_empty() -> None:
    h = Harness()
    opened = open_chain(h)
    listed = h.vi.node("http.ListHeaders", handle=opened.handle_out, error_in=opened.error_out)
    h.vi.indicator("list", listed.headers)

    assert h.run().indicators["list"] == ""


# --- method nodes -----------------------------------------------------------------------


def method_vi(h: Harness, method: str = "GET", headers: list[tuple[str, str]] = (), include: bool | None = None,
              open_inputs: dict | None = None, **inputs: Any):
    node = open_chain(h, **(open_inputs or {}))
    if include is not None:
        node = h.vi.node("http.ConfigureCORS", handle=node.handle_out, include_credentials=include, error_in=node.error_out)
    for name, value in headers:
        node = h.vi.node("http.AddHeader", handle=node.handle_out, header=name, value=value, error_in=node.error_out)
    request = h.vi.node(f"http.{method}", handle=node.handle_out, error_in=node.error_out,
                        **{"url": "https://api.example.test/data", **inputs})
    h.vi.indicator("error", request.error_out)
    h.vi.indicator("status", request.status_code)
    h.vi.indicator("headers", request.headers)
    h.vi.indicator("handle out", request.handle_out)
    if method != "HEAD":
        h.vi.indicator("body", request.body)
        h.vi.indicator("bytes", request.body_bytes)
    return request


def test_get_returns_response_outputs() -> None:
    transport = RecordingTransport(
        respond=lambda request: HTTPResponse(200, "OK", (("Content-Type", "text/plain; charset=utf-8"), ("X-Custom", "1")), "héllo".encode())
    )
    h = Harness(transport)
    method_vi(h)

    result = h.run()

    assert result.indicators["status"] == 200
    assert result.indicators["body"] == "héllo"
    assert result.indicators["bytes"] == "héllo".encode()
    assert result.indicators["headers"] == "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\nx-custom: 1\r\n"
    assert result.indicators["handle_out"] == 1
    assert result.indicators["error"] == ErrorCluster.NO_ERROR
    [request] = transport.requests
    assert (request.method, request.url, request.body, request.cache) == ("GET", "https://api.example.test/data", None, "no-store")


@pytest.mark.parametrize("status", [404, 500])
def test_error_status_is_a_response(status: int) -> None:
    h = Harness(RecordingTransport(respond=lambda request: HTTPResponse(status, "Oops", (), b"failed")))
    method_vi(h)

    result = h.run()

    assert result.indicators["status"] == status
    assert result.indicators["error"] == ErrorCluster.NO_ERROR
    assert result.indicators["body"] == "failed"


def test_one_off_request_without_handle() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    get = h.vi.node("http.GET", url="https://api.example.test/x")
    h.vi.indicator("handle", get.handle_out)

    result = h.run()

    assert result.indicators["handle"] == 0
    [request] = transport.requests
    assert request.credentials == "same-origin"
    assert request.headers == ()


@pytest.mark.parametrize(("include", "mode"), [(None, "same-origin"), (False, "same-origin"), (True, "include")])
def test_credentials_mode_follows_configure_cors(include: bool | None, mode: str) -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, include=include)

    h.run()

    assert transport.requests[0].credentials == mode


def test_handle_headers_are_sent() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, headers=[("X-Api-Key", "k1"), ("Accept", "application/json")])

    h.run()

    assert transport.requests[0].headers == (("X-Api-Key", "k1"), ("Accept", "application/json"))


def test_basic_auth_from_open_handle() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, open_inputs={"username": "opérateur", "password": "pa:ss"})

    h.run()

    [(name, value)] = transport.requests[0].headers
    assert name == "Authorization"
    assert value == "Basic " + base64.b64encode("opérateur:pa:ss".encode()).decode()


def test_explicit_authorization_header_wins() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, headers=[("authorization", "Bearer t")], open_inputs={"username": "u", "password": "p"})

    h.run()

    assert transport.requests[0].headers == (("authorization", "Bearer t"),)


def test_basic_authorization_encoding() -> None:
    assert basic_authorization("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    assert basic_authorization("ü", "€") == "Basic " + base64.b64encode("ü:€".encode()).decode()


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_body_gets_default_content_type(method: str) -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, method=method, buffer="a=1&b=ü")

    h.run()

    [request] = transport.requests
    assert request.method == method
    assert request.body == "a=1&b=ü".encode()
    assert request.headers == (("Content-Type", "application/x-www-form-urlencoded"),)


def test_empty_body_still_gets_content_type() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, method="POST")

    h.run()

    assert transport.requests[0].body == b""
    assert transport.requests[0].headers == (("Content-Type", "application/x-www-form-urlencoded"),)


def test_content_type_on_handle_in_any_case_wins() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, method="PUT", headers=[("CONTENT-type", "application/json")], buffer_bytes=b"\x00\xff")

    h.run()

    assert transport.requests[0].headers == (("CONTENT-type", "application/json"),)
    assert transport.requests[0].body == b"\x00\xff"


def test_get_sends_no_content_type() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, method="DELETE")

    h.run()

    assert transport.requests[0].headers == ()


def test_body_and_bytes_together_rejected() -> None:
    h = Harness()
    method_vi(h, method="POST", buffer="text", buffer_bytes=b"bytes")

    error = h.run().indicators["error"]
    assert error.code == 1
    assert "not both" in error.source
    assert "client handle" not in error.source


def test_head_has_no_body_outputs() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, method="HEAD")

    result = h.run()

    assert result.indicators["status"] == 200
    assert transport.requests[0].read_body is False


def test_unwired_body_is_not_read() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    get = h.vi.node("http.GET", url="https://api.example.test/")
    h.vi.indicator("status", get.status_code)

    h.run()

    assert transport.requests[0].read_body is False


def test_binary_body_decodes_without_error() -> None:
    raw = bytes(range(256))
    h = Harness(RecordingTransport(respond=lambda request: HTTPResponse(200, "OK", (), raw)))
    method_vi(h)

    result = h.run()

    assert result.indicators["bytes"] == raw
    assert "\ufffd" in result.indicators["body"]


def test_charset_from_content_type() -> None:
    body = "café ñ".encode("iso-8859-1")

    assert decode_body(body, "text/plain; charset=ISO-8859-1") == "café ñ"
    assert decode_body(body, "text/plain") == "caf\ufffd \ufffd"
    assert response_charset('text/html; charset="windows-1252"') == "cp1252"
    assert response_charset("text/plain; charset=no-such-codec") == "utf-8"


def test_response_headers_format_keeps_empty_reason() -> None:
    assert format_response_headers(200, "", ()) == "HTTP/1.1 200 \r\n"


# --- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "code"),
    [(FailureKind.TIMEOUT, 56), (FailureKind.ABORTED, 363508), (FailureKind.NETWORK, 363650),
     (FailureKind.INVALID_URL, 363500), (FailureKind.INVALID_HEADER, 363651), (FailureKind.OUT_OF_MEMORY, 2)],
)
def test_transport_failures_map_to_codes(kind: FailureKind, code: int) -> None:
    h = Harness(RecordingTransport(respond=failing(kind)))
    method_vi(h)

    result = h.run()

    error = result.indicators["error"]
    assert error.code == code
    assert error.source.startswith("GET in HTTP Test\n")
    assert "URL: https://api.example.test/data" in error.source
    assert result.indicators["status"] == 0
    assert result.indicators["body"] == ""
    assert result.indicators["headers"] == ""
    assert result.indicators["handle_out"] == 1


def test_network_error_with_credentials_names_headers() -> None:
    h = Harness(RecordingTransport(respond=failing(FailureKind.NETWORK)))
    method_vi(h, include=True)

    source = h.run().indicators["error"].source

    assert "Access-Control-Allow-Origin" in source
    assert "Access-Control-Allow-Credentials: true" in source
    assert "set include credentials during CORS to False" in source


def test_network_error_without_credentials_has_no_hint() -> None:
    h = Harness(RecordingTransport(respond=failing(FailureKind.NETWORK)))
    method_vi(h, include=False)

    source = h.run().indicators["error"].source

    assert "Access-Control-Allow-Credentials" not in source


def test_timeout_zero_fails_at_once() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, timeout_ms=0)

    error = h.run().indicators["error"]

    assert error.code == 56
    assert transport.requests == []


def test_negative_timeout_passed_as_forever() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, timeout_ms=-1)

    h.run()

    assert transport.requests[0].timeout_ms == -1


@pytest.mark.parametrize(
    ("url", "fragment"),
    [("", "URL: (empty)"), ("   ", "URL: (empty)"), ("ftp://files.example.test/a", "only http and https"),
     ("https://user:secret@api.example.test/", "wire them to username and password")],
)
def test_invalid_urls_report_363500(url: str, fragment: str) -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, url=url)

    error = h.run().indicators["error"]

    assert error.code == 363500
    assert fragment in error.source
    assert "secret" not in error.source
    assert transport.requests == []


def test_relative_url_is_allowed() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, url="data/readings.json")

    h.run()

    assert transport.requests[0].url == "data/readings.json"


def test_output_file_rejected() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, output_file="C:\\temp\\out.bin")

    error = h.run().indicators["error"]

    assert error.code == 363654
    assert transport.requests == []


def test_unknown_handle_on_method_node() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    get = h.vi.node("http.GET", handle=42, url="https://api.example.test/")
    h.vi.indicator("error", get.error_out)
    h.vi.indicator("handle", get.handle_out)

    result = h.run()

    assert result.indicators["error"].code == 1
    assert result.indicators["handle"] == 42
    assert transport.requests == []


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [("Bad Name", "s3cret-1", "not an HTTP token"), ("X-Split", "s3cret\r\nInjected: 1", "CR, LF or NUL"),
     ("X-Nul", "s3cret\0b", "CR, LF or NUL"), ("X-Euro", "s3cret €", "above U+00FF"),
     ("", "s3cret-2", "not an HTTP token")],
)
def test_invalid_header_reports_363651(name: str, value: str, fragment: str) -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    request = method_vi(h, headers=[(name, value)])
    listed = h.vi.node("http.ListHeaders", handle=request.handle_out)
    h.vi.indicator("still usable", listed.error_out)

    result = h.run()

    error = result.indicators["error"]
    assert error.code == 363651
    assert f"header: {name}" in error.source
    assert fragment in error.source
    assert "s3cret" not in error.source
    assert transport.requests == []
    assert result.indicators["still_usable"] == ErrorCluster.NO_ERROR


@pytest.mark.parametrize("name", ["Cookie", "Host", "content-length", "Sec-Fetch-Mode", "Proxy-Authorization", "User-Agent"])
def test_forbidden_header_dropped_with_warning(name: str) -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, headers=[(name, "value"), ("X-Kept", "1")])

    result = h.run()

    warning = result.indicators["error"]
    assert warning.status is False
    assert warning.code == 5101
    assert f"header: {name}" in warning.source
    assert transport.requests[0].headers == (("X-Kept", "1"),)
    assert result.indicators["status"] == 200


def test_method_override_forbidden_only_for_unsafe_methods() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, headers=[("X-HTTP-Method-Override", "PATCH"), ("X-Method-Override", "TRACE")])

    result = h.run()

    assert transport.requests[0].headers == (("X-HTTP-Method-Override", "PATCH"),)
    assert result.indicators["error"].code == 5101


def test_abort_reports_363508_and_cancels_send() -> None:
    transport = RecordingTransport(delay_s=5)
    h = Harness(transport)
    method_vi(h)
    program = compile_vi(h.vi.build())

    async def main() -> RunResult:
        running = program.start(services={"http": h.service})
        await asyncio.sleep(0.05)
        running.abort()
        return await running.wait()

    result = asyncio.run(main())

    assert result.aborted is True
    assert result.indicators["error"].code == 363508
    assert transport.cancelled == 1


# --- handles are independent and share no state ----------------------------------------


def test_handles_are_independent() -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    first = open_chain(h, username="a", password="b")
    first = h.vi.node("http.AddHeader", handle=first.handle_out, header="X-First", value="1", error_in=first.error_out)
    first = h.vi.node("http.ConfigureCORS", handle=first.handle_out, include_credentials=True, error_in=first.error_out)
    second = open_chain(h)
    get_first = h.vi.node("http.GET", handle=first.handle_out, url="https://a.example.test/", error_in=first.error_out)
    get_second = h.vi.node("http.GET", handle=second.handle_out, url="https://b.example.test/", error_in=get_first.error_out)
    h.vi.indicator("error", get_second.error_out)

    h.run()

    by_url = {request.url: request for request in transport.requests}
    assert [name for name, _ in by_url["https://a.example.test/"].headers] == ["X-First", "Authorization"]
    assert by_url["https://b.example.test/"].headers == ()
    assert by_url["https://b.example.test/"].credentials == "same-origin"


def test_parallel_requests_on_one_handle() -> None:
    transport = RecordingTransport(delay_s=0.2)
    h = Harness(transport)
    opened = open_chain(h)
    gets = [h.vi.node("http.GET", handle=opened.handle_out, url=f"https://api.example.test/{index}",
                      error_in=opened.error_out) for index in range(5)]
    merge = h.vi.node("error.MergeErrors", error_in=[get.error_out for get in gets])
    h.vi.indicator("error", merge.error_out)

    result = h.run()

    assert result.indicators["error"] == ErrorCluster.NO_ERROR
    assert len(transport.requests) == 5
    assert transport.max_in_flight == 5


@pytest.mark.parametrize("url", ["http://example.test:99999/", "http://example.test:port/", "http://[::1/"])
def test_bad_port_or_host_reports_363500(url: str) -> None:
    transport = RecordingTransport()
    h = Harness(transport)
    method_vi(h, url=url)

    error = h.run().indicators["error"]

    assert error.code == 363500
    assert transport.requests == []


# --- diagnosis of failed credentialed requests -------------------------------------------


@dataclass
class DiagnosingTransport(RecordingTransport):
    """Fails every request with a network error and reports a fixed diagnosis."""

    diagnosis: Diagnosis = Diagnosis.CREDENTIALS_NOT_ALLOWED
    probed: list[HTTPRequest] = field(default_factory=list)

    async def diagnose(self, request: HTTPRequest) -> DiagnosisReport:
        self.probed.append(request)
        return DiagnosisReport(self.diagnosis, "https://app.site-a.test:8443")


def diagnosing(diagnosis: Diagnosis) -> DiagnosingTransport:
    return DiagnosingTransport(respond=failing(FailureKind.NETWORK), diagnosis=diagnosis)


@pytest.mark.parametrize(
    ("diagnosis", "fragments"),
    [
        (Diagnosis.UNREACHABLE, ["could not be reached", "client certificate"]),
        (Diagnosis.ORIGIN_NOT_ALLOWED, ["does not allow this page's origin (https://app.site-a.test:8443)",
                                        "Access-Control-Allow-Origin: https://app.site-a.test:8443"]),
        (Diagnosis.CREDENTIALS_NOT_ALLOWED, ["without credentials but not with them", "Access-Control-Allow-Origin: *"]),
        (Diagnosis.HEADERS_NOT_ALLOWED, ["does not allow the request's headers (X-Station)"]),
    ],
)
def test_diagnosis_joins_network_error(diagnosis: Diagnosis, fragments: list[str]) -> None:
    transport = diagnosing(diagnosis)
    h = Harness(transport)
    method_vi(h, include=True, headers=[("X-Station", "7")])

    source = h.run().indicators["error"].source

    assert "363650" not in source  # the code sits in the cluster, not the text
    for fragment in fragments:
        assert fragment in source
    assert len(transport.probed) == 1


def test_unknown_diagnosis_adds_nothing() -> None:
    h = Harness(diagnosing(Diagnosis.UNKNOWN))
    method_vi(h, include=True)

    assert "Diagnosis" not in h.run().indicators["error"].source


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_unsafe_methods_are_never_probed(method: str) -> None:
    transport = diagnosing(Diagnosis.CREDENTIALS_NOT_ALLOWED)
    h = Harness(transport)
    method_vi(h, method=method, include=True)

    error = h.run().indicators["error"]

    assert error.code == 363650
    assert transport.probed == []
    assert len(transport.requests) == 1


def test_head_is_probed() -> None:
    transport = diagnosing(Diagnosis.ORIGIN_NOT_ALLOWED)
    h = Harness(transport)
    method_vi(h, method="HEAD", include=True)

    h.run()

    assert [request.method for request in transport.probed] == ["HEAD"]


@pytest.mark.parametrize("include", [None, False])
def test_requests_without_credentials_not_probed(include: bool | None) -> None:
    transport = diagnosing(Diagnosis.ORIGIN_NOT_ALLOWED)
    h = Harness(transport)
    method_vi(h, include=include)

    h.run()

    assert transport.probed == []


def test_probe_turned_off_per_handle() -> None:
    transport = diagnosing(Diagnosis.ORIGIN_NOT_ALLOWED)
    h = Harness(transport)
    opened = open_chain(h)
    cors = h.vi.node("http.ConfigureCORS", handle=opened.handle_out, include_credentials=True,
                     diagnose_failures=False, error_in=opened.error_out)
    get = h.vi.node("http.GET", handle=cors.handle_out, url="https://api.example.test/", error_in=cors.error_out)
    h.vi.indicator("error", get.error_out)

    error = h.run().indicators["error"]

    assert error.code == 363650
    assert transport.probed == []
    assert "Diagnosis" not in error.source


def test_same_origin_failure_not_probed() -> None:
    transport = DiagnosingTransport(respond=failing(FailureKind.NETWORK, cross_origin=False))
    h = Harness(transport)
    method_vi(h, include=True)

    h.run()

    assert transport.probed == []


def test_diagnosis_replaces_general_advice() -> None:
    h = Harness(diagnosing(Diagnosis.UNREACHABLE))
    method_vi(h, include=True)

    source = h.run().indicators["error"].source

    assert "could not be reached" in source
    assert "must answer with Access-Control-Allow-Origin" not in source
    assert "sends Access-Control-Allow-Origin" not in source
    assert source.index("Diagnosis") < source.index("URL: ")


def test_broken_body_not_blamed_on_cors() -> None:
    h = Harness(RecordingTransport(respond=failing(FailureKind.BODY_INTERRUPTED, "TypeError: network error")))
    method_vi(h, include=True)

    error = h.run().indicators["error"]

    assert error.code == 363650
    assert "connection broke before the whole body" in error.source
    assert "Access-Control-Allow-Origin" not in error.source
    assert "browser message: TypeError: network error" in error.source


def test_csp_block_named_in_error() -> None:
    h = Harness(RecordingTransport(respond=failing(FailureKind.BLOCKED_BY_PAGE, "the connect-src directive blocks x")))
    method_vi(h, include=True)

    error = h.run().indicators["error"]

    assert error.code == 363650
    assert "Content-Security-Policy does not allow connecting" in error.source
    assert "connect-src" in error.source


def test_long_url_shortened_in_error() -> None:
    url = "https://api.example.test/" + "a" * 5000
    h = Harness(RecordingTransport(respond=failing(FailureKind.NETWORK)))
    method_vi(h, url=url)

    source = h.run().indicators["error"].source

    assert len(source) < 1500
    assert f"({len(url)} characters)" in source


def test_username_with_colon_rejected() -> None:
    h = Harness()
    node = open_chain(h, username="a:b", password="s3cret")
    h.vi.indicator("error", node.error_out)

    error = h.run().indicators["error"]

    assert error.code == 1
    assert "must not contain a colon" in error.source
    assert "s3cret" not in error.source
