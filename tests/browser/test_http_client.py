"""The HTTP Client palette in real Pyodide and Chromium, against real servers on other ports.

The page is served from one loopback port and the APIs from others, so every request
here is cross-origin (and same-site). The same-origin case has a server of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.wrappers import Response

from support.apps import LATIN1_TEXT, ApiApp, gzip_plain_body
from support.browser import boot_page, run_python, run_vi
from support.servers import RunningServer, free_port, wsgi_server
from support.vis import no_error, parallel_get_vi, request_vi


def echo(result: dict) -> dict:
    return json.loads(result["indicators"]["body"])


# --- methods, with and without a handle -------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("handle", [True, False])
def test_method_reaches_httpbin(booted_page: Page, httpbin: RunningServer, method: str, handle: bool) -> None:
    """GET and DELETE reach httpbin's /anything with the right method, with or without a handle."""
    result = run_vi(booted_page, request_vi(method, handle=handle), {"url": httpbin.url + "anything/path?q=1"})

    indicators = result["indicators"]
    assert no_error(indicators["error"])
    assert indicators["status"] == 200
    body = echo(result)
    assert body["method"] == method
    assert body["args"] == {"q": "1"}


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("handle", [True, False])
def test_body_methods_send_buffer(booted_page: Page, httpbin: RunningServer, method: str, handle: bool) -> None:
    """POST and PUT send the buffer as UTF-8 with the default form Content-Type."""
    vi = request_vi(method, handle=handle, buffer="name=Grüße&x=1")
    result = run_vi(booted_page, vi, {"url": httpbin.url + "anything"})

    body = echo(result)
    assert no_error(result["indicators"]["error"])
    assert body["method"] == method
    assert body["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert body["form"] == {"name": "Grüße", "x": "1"}


def test_post_binary_body_with_own_type(booted_page: Page, api: RunningServer) -> None:
    """A byte array body arrives byte for byte, with the handle's Content-Type."""
    payload = bytes(range(256)) * 4
    vi = request_vi("POST", headers=(("content-type", "application/octet-stream"),), buffer_bytes=payload)
    result = run_vi(booted_page, vi, {"url": api.url + "credentialed/echo"})

    body = echo(result)
    assert base64.b64decode(body["body_base64"]) == payload
    assert body["content_type"] == "application/octet-stream"


def test_head_returns_status_and_headers(booted_page: Page, httpbin: RunningServer) -> None:
    result = run_vi(booted_page, request_vi("HEAD"), {"url": httpbin.url + "get"})

    indicators = result["indicators"]
    assert indicators["status"] == 200
    assert indicators["headers"].startswith("HTTP/1.1 200 OK\r\n")
    assert "content-type: application/json\r\n" in indicators["headers"]
    assert "body" not in indicators


def test_handle_headers_arrive_at_server(booted_page: Page, api: RunningServer, api_app: ApiApp) -> None:
    """Headers added with Add Header reach the server; the one-off request sends none."""
    vi = request_vi(headers=(("X-Station", "bench 7"), ("Accept", "application/json")))
    result = run_vi(booted_page, vi, {"url": api.url + "credentialed/echo"})

    headers = echo(result)["headers"]
    assert headers["x-station"] == "bench 7"
    assert headers["accept"] == "application/json"
    assert any(request.preflight for request in api_app.requests)


def test_response_headers_and_status_line(booted_page: Page, api: RunningServer) -> None:
    """The headers output starts with the status line and lists only exposed headers."""
    result = run_vi(booted_page, request_vi(), {"url": api.url + "credentialed/custom-header"})

    lines = result["indicators"]["headers"].split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK"
    assert "x-custom: custom value" in lines
    assert not any(line.startswith("x-hidden") for line in lines)
    assert not any(line.startswith("set-cookie") for line in lines)
    assert all(line == line.lower() or ": " in line for line in lines[1:-1])
    assert lines[-1] == ""


@pytest.mark.parametrize("status", [404, 500])
def test_error_statuses_pass_through(booted_page: Page, httpbin: RunningServer, status: int) -> None:
    result = run_vi(booted_page, request_vi(), {"url": httpbin.url + f"status/{status}"})

    assert result["indicators"]["status"] == status
    assert no_error(result["indicators"]["error"])


def test_redirect_gives_final_response(booted_page: Page, api: RunningServer) -> None:
    result = run_vi(booted_page, request_vi(), {"url": api.url + "credentialed/redirect?to=echo"})

    assert result["indicators"]["status"] == 200
    assert echo(result)["path"] == "/credentialed/echo"


# --- bodies -----------------------------------------------------------------------------


def test_binary_body_arrives_intact(booted_page: Page, api: RunningServer) -> None:
    result = run_vi(booted_page, request_vi(), {"url": api.url + "credentialed/bytes/1000"})

    indicators = result["indicators"]
    assert bytes(indicators["body_bytes"]) == bytes(index % 256 for index in range(1000))
    assert "\ufffd" in indicators["body"]
    assert no_error(indicators["error"])


def test_latin1_body_decoded_with_charset(booted_page: Page, api: RunningServer) -> None:
    result = run_vi(booted_page, request_vi(), {"url": api.url + "credentialed/latin1"})

    indicators = result["indicators"]
    assert indicators["body"] == LATIN1_TEXT
    assert bytes(indicators["body_bytes"]) == LATIN1_TEXT.encode("iso-8859-1")


STREAMED_GET = """
import hashlib, json
import webvi.browser.fetch as transport
from webvi.browser.body import StreamedBody
from webvi.browser.page import page_services
from webvi.diagram import loads_vi
from webvi.engine import compile_vi

class CountingBody(StreamedBody):
    created = 0

    def __init__(self, length):
        super().__init__(length)
        CountingBody.created += 1

transport.StreamedBody = CountingBody
try:
    program = compile_vi(loads_vi(VI_TEXT))
    result = await program.run({"url": URL, "timeout_ms": TIMEOUT_MS}, services=page_services())
finally:
    transport.StreamedBody = StreamedBody
body = result.indicators["body_bytes"]
json.dumps({"sha256": hashlib.sha256(body).hexdigest(), "length": len(body), "streamed": CountingBody.created,
            "error": result.indicators["error"].code, "awaited": transport.requests_in_flight()})
"""


def streamed_get(page: Page, url: str, timeout_ms: int = 10_000) -> dict:
    """GET url in the page, counting the bodies received in chunks; return the body's hash and length."""
    code = f"VI_TEXT = {request_vi()!r}\nURL = {url!r}\nTIMEOUT_MS = {timeout_ms}\n" + STREAMED_GET
    return json.loads(run_python(page, code))


def test_large_body_streamed_intact(booted_page: Page, api: RunningServer) -> None:
    """A body of 1 MiB or more arrives in chunks, written straight into the output bytes."""
    result = streamed_get(booted_page, api.url + "credentialed/large/3")

    expected = (bytes(range(256)) * (3 * 4096))
    assert result["streamed"] == 1
    assert result["length"] == len(expected)
    assert result["sha256"] == hashlib.sha256(expected).hexdigest()
    assert result["error"] == 0


@pytest.mark.parametrize(
    ("random_kib", "zero_kib"),
    [(1536, 0), (1200, 2048)],
    ids=["decoded-shorter-than-content-length", "decoded-longer-than-content-length"],
)
def test_gzip_body_streamed_intact(booted_page: Page, api: RunningServer, random_kib: int, zero_kib: int) -> None:
    """Content-Length counts the gzip-encoded bytes; the decoded body still arrives whole."""
    result = streamed_get(booted_page, api.url + f"credentialed/gzip/{random_kib}/{zero_kib}")

    expected = gzip_plain_body(random_kib, zero_kib)
    assert result["streamed"] == 1
    assert result["length"] == len(expected)
    assert result["sha256"] == hashlib.sha256(expected).hexdigest()


def test_timeout_during_streamed_body(booted_page: Page, api: RunningServer) -> None:
    """A timeout while a large body streams gives 56 and leaves no request behind."""
    result = streamed_get(booted_page, api.url + "credentialed/large/3?stall_ms=3000", timeout_ms=1000)

    assert result["error"] == 56
    assert result["length"] == 0
    assert result["awaited"] == 0


def test_body_too_large_for_memory(booted_page: Page, api: RunningServer) -> None:
    """A streamed body Python cannot store stops the download with error 2 (memory is full)."""
    code = f"""
import json
import webvi.browser.fetch as transport
from webvi.browser.body import StreamedBody
from webvi.browser.page import page_services
from webvi.diagram import loads_vi
from webvi.engine import compile_vi

class FullMemoryBody(StreamedBody):
    def write(self, chunk):
        if self.received > 0:
            raise MemoryError
        super().write(chunk)

transport.StreamedBody = FullMemoryBody
try:
    program = compile_vi(loads_vi({request_vi()!r}))
    result = await program.run({{"url": {api.url + "credentialed/large/8"!r}}}, services=page_services())
finally:
    transport.StreamedBody = StreamedBody
error = result.indicators["error"]
json.dumps({{"code": error.code, "source": error.source, "awaited": transport.requests_in_flight()}})
"""
    result = json.loads(run_python(booted_page, code))

    assert result["code"] == 2
    assert "Memory is full" in result["source"]
    assert "large/8" in result["source"]
    assert result["awaited"] == 0


def test_truncated_body_not_blamed_on_cors(booted_page: Page, api: RunningServer) -> None:
    """A body cut short after the response passed CORS is reported as a broken connection, not CORS."""
    result = run_vi(booted_page, request_vi(), {"url": api.url + "credentialed/large/3?truncate=1"})

    error = result["indicators"]["error"]
    assert error["code"] == 363650
    assert "connection broke before the whole body" in error["source"]
    assert "Access-Control-Allow-Origin" not in error["source"]


def test_outcome_after_abort_is_dropped(booted_page: Page, api: RunningServer) -> None:
    """An outcome that arrives between an abort and the node's next step changes nothing."""
    code = f"""
import asyncio, json
import webvi.browser.fetch as transport
from webvi.browser.page import page_services
from webvi.diagram import loads_vi
from webvi.engine import compile_vi
program = compile_vi(loads_vi({request_vi()!r}))
running = program.start({{"url": {api.url + "credentialed/delay/5000"!r}}}, services=page_services())
await asyncio.sleep(0.3)
(request_id,) = transport._in_flight
running.abort()
transport._report_outcome(request_id, True, 200, "OK", "", None, "", False)
result = await running.wait()
json.dumps({{"run": result.status, "error": result.indicators["request_error"].code,
            "awaited": transport.requests_in_flight()}})
"""
    result = json.loads(run_python(booted_page, code))

    assert result == {"run": "aborted", "error": 363508, "awaited": 0}


# --- timeouts and network errors ---------------------------------------------------------


def timed_run(page: Page, vi: str, controls: dict) -> tuple[dict, float]:
    started = time.monotonic()
    result = run_vi(page, vi, controls)
    return result, time.monotonic() - started


def test_timeout_zero_fails_at_once(booted_page: Page, api: RunningServer, api_app: ApiApp) -> None:
    result, elapsed = timed_run(booted_page, request_vi(), {"url": api.url + "credentialed/delay/3000", "timeout_ms": 0})

    assert result["indicators"]["error"]["code"] == 56
    assert elapsed < 2.5
    assert api_app.requests == []


def test_timeout_expires_against_slow_server(booted_page: Page, api: RunningServer) -> None:
    result, elapsed = timed_run(booted_page, request_vi(), {"url": api.url + "credentialed/delay/5000", "timeout_ms": 1000})

    error = result["indicators"]["error"]
    assert error["code"] == 56
    assert "timeout in ms: 1000" in error["source"]
    assert result["indicators"]["status"] == 0
    # The bounds allow for the page round trip. The server would respond only after 5 s.
    assert 0.9 < elapsed < 4.0


def test_negative_timeout_waits(booted_page: Page, api: RunningServer) -> None:
    result, elapsed = timed_run(booted_page, request_vi(), {"url": api.url + "credentialed/delay/1500", "timeout_ms": -1})

    assert result["indicators"]["status"] == 200
    assert no_error(result["indicators"]["error"])
    assert elapsed >= 1.5


@pytest.fixture
def refused_url() -> str:
    """A loopback URL on a port that was just free, so nothing listens there."""
    return f"http://127.0.0.1:{free_port()}/nothing"


def test_refused_port_reports_network_error(booted_page: Page, refused_url: str) -> None:
    result = run_vi(booted_page, request_vi(), {"url": refused_url})

    error = result["indicators"]["error"]
    assert error["code"] == 363650
    assert refused_url in error["source"]


def test_unparsable_url_reports_363500(booted_page: Page) -> None:
    result = run_vi(booted_page, request_vi(), {"url": "http://exa mple.test:99999/"})

    assert result["indicators"]["error"]["code"] == 363500


# --- browser-only input errors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("vi", "code"),
    [
        (request_vi(open_inputs={"cookie_file": "cookies.txt"}), 363652),
        (request_vi(open_inputs={"verify_server": False}), 363653),
        (request_vi(output_file="C:/data/out.bin"), 363654),
    ],
)
def test_browser_input_errors(booted_page: Page, api: RunningServer, api_app: ApiApp, vi: str, code: int) -> None:
    result = run_vi(booted_page, vi, {"url": api.url + "credentialed/echo"})

    assert result["indicators"]["error"]["code"] == code
    assert api_app.requests == []


def test_invalid_header_reported_in_page(booted_page: Page, api: RunningServer) -> None:
    vi = request_vi(headers=(("X-Ok", "1"), ("Bad Header", "value")))
    result = run_vi(booted_page, vi, {"url": api.url + "credentialed/echo"})

    error = result["indicators"]["error"]
    assert error["code"] == 363651
    assert "header: Bad Header" in error["source"]


def test_forbidden_header_warns(booted_page: Page, api: RunningServer) -> None:
    vi = request_vi(headers=(("Cookie", "session=forged"), ("X-Ok", "1")))
    result = run_vi(booted_page, vi, {"url": api.url + "credentialed/echo"})

    warning = result["indicators"]["error"]
    headers = echo(result)["headers"]
    assert warning["status"] is False
    assert warning["code"] == 5101
    assert "header: Cookie" in warning["source"]
    assert headers["x-ok"] == "1"
    assert "forged" not in headers.get("cookie", "")


# --- handles ----------------------------------------------------------------------------------


def test_parallel_requests_on_one_handle(booted_page: Page, api: RunningServer, api_app: ApiApp) -> None:
    """Four 1-second requests on one handle overlap instead of queueing."""
    controls = {f"url_{index}": api.url + f"credentialed/delay/1000?n={index}" for index in range(1, 5)}
    started = time.monotonic()
    result = run_vi(booted_page, parallel_get_vi(4), controls)
    elapsed = time.monotonic() - started

    assert no_error(result["indicators"]["error"])
    assert [result["indicators"][f"status_{index}"] for index in range(1, 5)] == [200] * 4
    assert len([request for request in api_app.requests if not request.preflight]) == 4
    # Serial requests would take 4 s.
    assert elapsed < 3.0


def test_no_js_objects_left_after_requests(booted_page: Page, api: RunningServer) -> None:
    controls = {f"url_{index}": api.url + f"credentialed/bytes/{index}" for index in range(1, 9)}
    run_vi(booted_page, parallel_get_vi(8), controls)

    pending = booted_page.evaluate("import('./webvi-fetch.mjs').then((helper) => helper.pendingRequests())")
    assert pending == 0


# --- credentials and CORS -------------------------------------------------------------------


def set_cookie_url(api: RunningServer, name: str, value: str) -> str:
    return api.url + f"credentialed/set-cookie?name={name}&value={value}&samesite=Lax"


def test_cookies_sent_only_with_include_credentials(booted_page: Page, api: RunningServer) -> None:
    """A cross-origin request stores and sends cookies only when include credentials is True."""
    without = run_vi(booted_page, request_vi(include=False), {"url": set_cookie_url(api, "without", "1")})
    stored = run_vi(booted_page, request_vi(include=True), {"url": set_cookie_url(api, "station", "bench7")})
    sent = run_vi(booted_page, request_vi(include=True), {"url": api.url + "credentialed/cookies"})
    not_sent = run_vi(booted_page, request_vi(include=False), {"url": api.url + "credentialed/cookies"})
    one_off = run_vi(booted_page, request_vi(handle=False), {"url": api.url + "credentialed/cookies"})

    assert no_error(without["indicators"]["error"])
    assert no_error(stored["indicators"]["error"])
    assert echo(sent) == {"station": "bench7"}
    assert echo(not_sent) == {}
    assert echo(one_off) == {}


def test_wildcard_origin_fails_credentialed_request(booted_page: Page, api: RunningServer) -> None:
    """ACAO * fails a credentialed request with 363650 and works with include credentials False."""
    url = api.url + "wildcard/echo"
    credentialed = run_vi(booted_page, request_vi(include=True), {"url": url})
    anonymous = run_vi(booted_page, request_vi(include=False), {"url": url})

    error = credentialed["indicators"]["error"]
    assert error["code"] == 363650
    assert "Access-Control-Allow-Credentials: true" in error["source"]
    assert "set include credentials during CORS to False" in error["source"]
    assert anonymous["indicators"]["status"] == 200
    assert no_error(anonymous["indicators"]["error"])


def test_server_without_cors_fails(booted_page: Page, api: RunningServer) -> None:
    result = run_vi(booted_page, request_vi(include=False), {"url": api.url + "none/echo"})

    error = result["indicators"]["error"]
    assert error["code"] == 363650
    assert "Access-Control-Allow-Credentials" not in error["source"]


@pytest.fixture
def same_origin_site(dist_dir: Path, api_app: ApiApp) -> Iterator[RunningServer]:
    """The site and the API app on one origin: files from dist/, the API under /api/."""
    files = SharedDataMiddleware(lambda environ, start: Response("not found", 404)(environ, start), {"/": str(dist_dir)})
    app = DispatcherMiddleware(files, {"/api": api_app})

    def with_index(environ, start_response):
        if environ["PATH_INFO"] == "/":
            environ["PATH_INFO"] = "/index.html"
        return app(environ, start_response)

    with wsgi_server(with_index) as server:
        yield server


@pytest.mark.parametrize("include", [None, False, True])
def test_same_origin_sends_page_cookies(page: Page, same_origin_site: RunningServer, include: bool | None) -> None:
    """A same-origin request carries the page's cookies whatever Configure CORS sets."""
    boot_page(page, same_origin_site.url)
    page.evaluate("document.cookie = 'panel=front; path=/'")

    result = run_vi(page, request_vi(include=include), {"url": "api/credentialed/cookies"})

    assert echo(result) == {"panel": "front"}


def test_relative_url_resolves_against_page(page: Page, same_origin_site: RunningServer) -> None:
    boot_page(page, same_origin_site.url)

    result = run_vi(page, request_vi(handle=False), {"url": "api/none/echo"})

    assert result["indicators"]["status"] == 200
    assert echo(result)["path"] == "/none/echo"


def test_python_sees_no_request_after_abort(booted_page: Page, api: RunningServer) -> None:
    """Aborting a run cancels the fetch: the node reports 363508 and nothing stays pending."""
    code = f"""
import asyncio, json
from webvi.browser.page import page_services
from webvi.diagram import loads_vi
from webvi.engine import compile_vi
program = compile_vi(loads_vi({request_vi()!r}))
running = program.start({{"url": {api.url + "credentialed/delay/5000"!r}}}, services=page_services())
await asyncio.sleep(0.3)
running.abort()
result = await running.wait()
import webvi_fetch
from webvi.browser.fetch import requests_in_flight
json.dumps({{"aborted": result.aborted, "error": result.indicators["request_error"].code,
            "pending": webvi_fetch.pendingRequests(), "awaited": requests_in_flight()}})
"""
    result = json.loads(run_python(booted_page, code))

    assert result == {"aborted": True, "error": 363508, "pending": 0, "awaited": 0}


def test_many_requests_keep_heap_flat(booted_page: Page, api: RunningServer) -> None:
    """A thousand GETs leave the wasm heap and the helper's request table as they were."""
    code = f"""
import json, webvi_fetch, gc
from webvi.browser.page import page_services
from webvi.diagram import loads_vi
from webvi.engine import compile_vi
import pyodide_js
program = compile_vi(loads_vi({request_vi()!r}))
controls = {{"url": {api.url + "credentialed/bytes/4096"!r}}}
sizes = []
for round_number in range(5):
    for _ in range(200):
        result = await program.run(controls, services=page_services())
        assert result.indicators["status"] == 200, result.indicators["error"]
    gc.collect()
    sizes.append(pyodide_js._module.HEAPU8.length)
from webvi.browser.fetch import requests_in_flight
json.dumps({{"sizes": sizes, "pending": webvi_fetch.pendingRequests(), "awaited": requests_in_flight()}})
"""
    result = json.loads(run_python(booted_page, code))

    assert result["pending"] == 0
    assert result["awaited"] == 0
    # The heap may grow while the first requests warm up, never after.
    assert result["sizes"][-1] == result["sizes"][1], result["sizes"]


def test_csp_block_reported_as_policy(page: Page, strict_site: RunningServer, api: RunningServer, api_app: ApiApp) -> None:
    """Under the strict CSP a request to another origin is blocked, and error out names the policy."""
    boot_page(page, strict_site.url)

    result = run_vi(page, request_vi(include=False), {"url": api.url + "wildcard/echo"})

    error = result["indicators"]["error"]
    assert error["code"] == 363650
    assert "Content-Security-Policy does not allow connecting" in error["source"]
    assert "connect-src" in error["source"]
    assert api_app.requests == []
