"""The test servers: ApiApp's CORS policies and endpoints, and httpbin in its own process."""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
from werkzeug.test import Client, TestResponse, create_environ, run_wsgi_app

from support import apps
from support.apps import ApiApp
from support import httpbin as httpbin_support
from support.httpbin import httpbin_server
from support.servers import RunningServer, wsgi_server

# Only ever a header value: nothing is served there.
ORIGIN = "http://app.site-a.test:8000"
MIB = 1024 * 1024
EXPOSED = "X-Request-Id, X-Custom"


@pytest.fixture
def app() -> ApiApp:
    return ApiApp()


@pytest.fixture
def client(app: ApiApp) -> Client:
    # With its cookie jar on, werkzeug's Client replaces a Cookie header that a test sets.
    return Client(app, use_cookies=False)


def preflight(client: Client, path: str, method: str = "PUT", headers: str | None = None) -> TestResponse:
    request_headers = {"Origin": ORIGIN, "Access-Control-Request-Method": method}
    if headers is not None:
        request_headers["Access-Control-Request-Headers"] = headers
    return client.options(path, headers=request_headers)


def cors_header_names(response: TestResponse) -> list[str]:
    return [name for name in response.headers.keys() if name.lower().startswith("access-control-")]


def basic_authorization(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def set_cookie_attributes(response: TestResponse) -> list[str]:
    [header] = response.headers.getlist("Set-Cookie")
    return [attribute.strip() for attribute in header.split(";")]


# Preflights


def test_preflight_credentialed_allows_request(client: Client) -> None:
    """A credentialed preflight allows the origin, credentials, method and every header."""
    response = preflight(client, "/credentialed/echo", "PUT", "authorization, x-custom, content-type")

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Methods"] == "PUT"
    assert response.headers["Access-Control-Allow-Headers"] == "authorization, x-custom, content-type"
    assert response.headers["Access-Control-Max-Age"] == "0"
    assert response.headers["Vary"] == "Origin"
    assert response.get_data() == b""


def test_preflight_wildcard_lists_explicit_values(client: Client) -> None:
    """A wildcard preflight allows any origin but lists method and headers without `*`."""
    response = preflight(client, "/wildcard/echo", "PATCH", "x-custom")

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "PATCH"
    assert response.headers["Access-Control-Allow-Headers"] == "x-custom"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert response.headers["Access-Control-Max-Age"] == "0"


def test_preflight_echo_origin_omits_credentials(client: Client) -> None:
    """An echo-origin preflight echoes the origin but never allows credentials."""
    response = preflight(client, "/echo-origin/echo", "DELETE", "x-custom")

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE"
    assert response.headers["Access-Control-Allow-Headers"] == "x-custom"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflight_none_sends_no_cors(client: Client) -> None:
    """A preflight under /none/ gets 204 without any CORS header."""
    response = preflight(client, "/none/echo", "PUT", "x-custom")

    assert response.status_code == 204
    assert cors_header_names(response) == []


def test_preflight_no_authorization_drops_header(client: Client) -> None:
    """The no-authorization policy leaves authorization out of the allowed headers."""
    response = preflight(client, "/no-authorization/echo", "GET", "authorization, x-custom")

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert response.headers["Access-Control-Allow-Headers"] == "x-custom"


def test_preflight_no_authorization_only_header(client: Client) -> None:
    """A preflight asking only for authorization gets no Access-Control-Allow-Headers."""
    response = preflight(client, "/no-authorization/echo", "GET", "Authorization")

    assert response.status_code == 204
    assert "Access-Control-Allow-Headers" not in response.headers


def test_preflight_no_authorization_allows_others(client: Client) -> None:
    """The no-authorization policy allows every header when authorization is not requested."""
    response = preflight(client, "/no-authorization/echo", "POST", "content-type, x-custom")

    assert response.headers["Access-Control-Allow-Headers"] == "content-type, x-custom"


def test_preflight_unknown_endpoint_allowed(client: Client) -> None:
    """Preflights get the policy's response, even for paths that have no endpoint."""
    response = preflight(client, "/credentialed/no-such-endpoint")

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_preflight_without_request_headers(client: Client) -> None:
    """A preflight that requests no headers gets no Access-Control-Allow-Headers."""
    response = preflight(client, "/credentialed/echo", "DELETE")

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Methods"] == "DELETE"
    assert "Access-Control-Allow-Headers" not in response.headers


# CORS headers of ordinary responses


@pytest.mark.parametrize(
    ("policy", "allow_origin", "allow_credentials", "vary"),
    [
        ("credentialed", ORIGIN, "true", "Origin"),
        ("wildcard", "*", None, None),
        ("echo-origin", ORIGIN, None, "Origin"),
        ("no-authorization", ORIGIN, "true", "Origin"),
    ],
)
def test_response_cors_headers_per_policy(
    client: Client, policy: str, allow_origin: str, allow_credentials: str | None, vary: str | None
) -> None:
    """Each policy sends its CORS headers and exposes X-Request-Id and X-Custom."""
    response = client.get(f"/{policy}/echo", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == allow_origin
    assert response.headers.get("Access-Control-Allow-Credentials") == allow_credentials
    assert response.headers.get("Vary") == vary
    assert response.headers["Access-Control-Expose-Headers"] == EXPOSED


def test_response_none_sends_no_cors(client: Client) -> None:
    """Responses under /none/ carry no CORS header but still X-Request-Id."""
    response = client.get("/none/echo", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert cors_header_names(response) == []
    assert response.headers["X-Request-Id"] == "1"


def test_response_without_origin_omits_origin(client: Client) -> None:
    """An echoing policy sends no Access-Control-Allow-Origin when the request has no Origin."""
    response = client.get("/credentialed/echo")

    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


def test_response_request_id_counts_up(client: Client) -> None:
    """X-Request-Id counts requests from 1, and every response has Cache-Control: no-store."""
    first = client.get("/credentialed/echo")
    second = client.get("/wildcard/status/404")
    third = client.get("/none/bytes/1")

    assert first.headers["X-Request-Id"] == "1"
    assert second.headers["X-Request-Id"] == "2"
    assert third.headers["X-Request-Id"] == "3"
    for response in (first, second, third):
        assert response.headers["Cache-Control"] == "no-store"


def test_preflight_has_no_request_id(client: Client) -> None:
    """Preflight responses carry neither X-Request-Id nor Access-Control-Expose-Headers."""
    response = preflight(client, "/credentialed/echo")

    assert "X-Request-Id" not in response.headers
    assert "Access-Control-Expose-Headers" not in response.headers


def test_unknown_policy_returns_404(client: Client) -> None:
    """A first path segment that names no policy gets 404 without CORS headers."""
    response = client.get("/open/echo", headers={"Origin": ORIGIN})

    assert response.status_code == 404
    assert "credentialed" in response.get_data(as_text=True)
    assert cors_header_names(response) == []


@pytest.mark.parametrize(
    "path", ["/credentialed/missing", "/credentialed/echo/", "/credentialed//echo", "/credentialed"]
)
def test_unknown_endpoint_returns_404(client: Client, path: str) -> None:
    """Paths without an endpoint get a 404 text that the policy's CORS headers let scripts read."""
    response = client.get(path, headers={"Origin": ORIGIN})

    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_api_app_handler_error_returns_500(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler exception becomes a logged 500 with CORS headers, and the app keeps serving."""

    def fail(*args: object) -> None:
        raise ValueError("broken handler")

    monkeypatch.setattr(apps, "_dispatch", fail)
    response = client.get("/credentialed/echo", headers={"Origin": ORIGIN})
    monkeypatch.undo()

    assert response.status_code == 500
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["X-Request-Id"] == "1"
    assert "broken handler" in caplog.text
    assert client.get("/credentialed/echo").status_code == 200


def test_api_app_internal_error_returns_500(
    client: Client, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An exception outside the endpoints becomes a logged 500."""

    def fail(*args: object) -> None:
        raise ValueError("broken recorder")

    monkeypatch.setattr(ApiApp, "_record", fail)
    response = client.get("/credentialed/echo")

    assert response.status_code == 500
    assert "broken recorder" in caplog.text


# Endpoints


def test_echo_returns_request_fields(client: Client) -> None:
    """Echo returns method, path, query, lower-case headers, cookies and the body."""
    body = "héllo".encode()
    response = client.post(
        "/credentialed/echo?a=1&b=two%20words&a=2",
        data=body,
        headers={
            "Origin": ORIGIN,
            "X-Custom": "yes",
            "Content-Type": "text/plain; charset=utf-8",
            "Cookie": "k=v",
        },
    )
    echoed = response.get_json()

    assert response.status_code == 200
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/credentialed/echo"
    assert echoed["query"] == {"a": "1", "b": "two words"}
    assert echoed["query_string"] == "a=1&b=two%20words&a=2"
    assert echoed["headers"]["x-custom"] == "yes"
    assert echoed["headers"]["origin"] == ORIGIN
    assert all(name == name.lower() for name in echoed["headers"])
    assert echoed["cookies"] == {"k": "v"}
    assert base64.b64decode(echoed["body_base64"]) == body
    assert echoed["body_text"] == "héllo"
    assert echoed["content_type"] == "text/plain; charset=utf-8"


def test_echo_replaces_invalid_utf8(client: Client) -> None:
    """Echo keeps the exact bytes in body_base64 and replaces invalid UTF-8 in body_text."""
    body = b"\xff\xfeok\x00"
    response = client.put("/none/echo", data=body, headers={"Content-Type": "application/octet-stream"})
    echoed = response.get_json()

    assert echoed["method"] == "PUT"
    assert base64.b64decode(echoed["body_base64"]) == body
    assert echoed["body_text"] == "\ufffd\ufffdok\x00"
    assert echoed["content_type"] == "application/octet-stream"


def test_echo_without_body(client: Client) -> None:
    """Echo of a GET has an empty body and no content type."""
    echoed = client.get("/wildcard/echo").get_json()

    assert echoed["body_base64"] == ""
    assert echoed["body_text"] == ""
    assert echoed["content_type"] is None
    assert echoed["query"] == {}


def test_echo_handles_plain_options(client: Client, app: ApiApp) -> None:
    """An OPTIONS request without Access-Control-Request-Method reaches the endpoint."""
    response = client.options("/credentialed/echo", headers={"Origin": ORIGIN})

    assert response.status_code == 200
    assert response.get_json()["method"] == "OPTIONS"
    assert app.requests[0].preflight is False


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_echo_accepts_every_method(client: Client, method: str) -> None:
    """Every method reaches the endpoint."""
    response = client.open("/credentialed/echo", method=method)

    assert response.status_code == 200
    assert response.get_json()["method"] == method


def test_echo_head_has_no_body(client: Client) -> None:
    """HEAD reaches the endpoint and gets headers without a body."""
    response = client.head("/credentialed/echo")

    assert response.status_code == 200
    assert response.get_data() == b""
    assert response.headers["X-Request-Id"] == "1"


@pytest.mark.parametrize("code", [200, 201, 299, 400, 404, 418, 500, 503, 599])
def test_status_returns_code_with_text(client: Client, code: int) -> None:
    """status/<code> returns that status with the text `status <code>`."""
    response = client.get(f"/credentialed/status/{code}")

    assert response.status_code == code
    assert response.get_data(as_text=True) == f"status {code}"
    assert response.mimetype == "text/plain"


@pytest.mark.parametrize("code", [204, 205, 304])
def test_status_without_body(client: Client, code: int) -> None:
    """status/204, 205 and 304 return no body."""
    response = client.get(f"/credentialed/status/{code}", headers={"Origin": ORIGIN})

    assert response.status_code == code
    assert response.get_data() == b""
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize("code", [0, 100, 199, 600])
def test_status_rejects_invalid_code(client: Client, code: int) -> None:
    """status/<code> returns 400 for codes outside 200 to 599."""
    response = client.get(f"/credentialed/status/{code}")

    assert response.status_code == 400
    assert "200 to 599" in response.get_data(as_text=True)


def test_status_rejects_negative_code(client: Client) -> None:
    """status/-1 matches no endpoint."""
    assert client.get("/credentialed/status/-1").status_code == 404


def test_delay_waits_requested_time(client: Client) -> None:
    """delay/<ms> responds after at least that many milliseconds."""
    started = time.monotonic()
    response = client.get("/credentialed/delay/180")
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert response.get_data(as_text=True) == "waited 180 ms"
    assert elapsed >= 0.18


def test_delay_zero_responds_immediately(client: Client) -> None:
    """delay/0 responds without waiting."""
    started = time.monotonic()
    response = client.get("/none/delay/0")

    assert response.get_data(as_text=True) == "waited 0 ms"
    assert time.monotonic() - started < 0.05


def test_delay_rejects_over_maximum(client: Client) -> None:
    """delay/<ms> returns 400 at once for more than a minute."""
    response = client.get("/none/delay/60001")

    assert response.status_code == 400
    assert "60000 ms" in response.get_data(as_text=True)


@pytest.mark.parametrize("size", [0, 1, 255, 256, 257, 1000, 70_000])
def test_bytes_follow_modulo_pattern(client: Client, size: int) -> None:
    """bytes/<n> returns n bytes where byte i is i % 256."""
    response = client.get(f"/credentialed/bytes/{size}")

    assert response.status_code == 200
    assert response.mimetype == "application/octet-stream"
    assert response.get_data() == bytes(i % 256 for i in range(size))
    assert response.headers["Content-Length"] == str(size)


def test_bytes_rejects_over_maximum(client: Client) -> None:
    """bytes/<n> returns 400 above 64 MiB and points to /large/."""
    response = client.get(f"/none/bytes/{64 * MIB + 1}")

    assert response.status_code == 400
    assert "/large/" in response.get_data(as_text=True)


def test_large_streams_mib_chunks(app: ApiApp) -> None:
    """large/<mib> streams that many 1 MiB chunks and declares the full Content-Length."""
    app_iter, status, headers = run_wsgi_app(app, create_environ("/wildcard/large/3"))
    chunks = list(app_iter)
    data = b"".join(chunks)

    assert status == "200 OK"
    assert headers["Content-Length"] == str(3 * MIB)
    assert headers["Content-Type"] == "application/octet-stream"
    assert [len(chunk) for chunk in chunks] == [MIB, MIB, MIB]
    assert data == bytes(range(256)) * (3 * MIB // 256)
    for offset in (0, 255, 256, MIB - 1, MIB, 2 * MIB + 12345, 3 * MIB - 1):
        assert data[offset] == offset % 256


def test_large_zero_is_empty(client: Client) -> None:
    """large/0 returns an empty body with Content-Length 0."""
    response = client.get("/wildcard/large/0")

    assert response.get_data() == b""
    assert response.headers["Content-Length"] == "0"


def test_large_rejects_over_maximum(client: Client) -> None:
    """large/<mib> returns 400 above 1024 MiB."""
    assert client.get("/none/large/1025").status_code == 400


def test_latin1_body_is_iso_8859_1(client: Client) -> None:
    """latin1 sends ISO-8859-1 bytes labelled with that charset."""
    response = client.get("/credentialed/latin1")

    assert response.headers["Content-Type"] == "text/plain; charset=iso-8859-1"
    assert response.get_data() == "café naïve über señor ÿ".encode("iso-8859-1")
    assert b"caf\xe9 " in response.get_data()
    assert b"\xc3" not in response.get_data()


def test_html_sends_script_markup(client: Client) -> None:
    """html sends markup that would run script if inserted as HTML."""
    response = client.get("/credentialed/html")

    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == (
        '<b id="injected">bold</b><script>window.injected = true</script>'
        '<img src=x onerror="window.injected = true">'
    )


def test_custom_header_exposes_only_custom(client: Client) -> None:
    """custom-header sends X-Custom and X-Hidden, and exposes only X-Custom."""
    response = client.get("/credentialed/custom-header", headers={"Origin": ORIGIN})
    exposed = [name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")]

    assert response.status_code == 200
    assert response.headers["X-Custom"] == "custom value"
    assert response.headers["X-Hidden"] == "hidden"
    assert "X-Custom" in exposed
    assert "X-Hidden" not in exposed


def test_set_cookie_defaults(client: Client) -> None:
    """set-cookie defaults to SameSite=Lax, Path=/ and no Secure attribute."""
    response = client.get("/credentialed/set-cookie?name=session&value=abc")
    attributes = set_cookie_attributes(response)

    assert response.status_code == 200
    assert response.get_json() == {
        "name": "session",
        "value": "abc",
        "samesite": "Lax",
        "secure": False,
        "path": "/",
    }
    assert attributes[0] == "session=abc"
    assert "SameSite=Lax" in attributes
    assert "Path=/" in attributes
    assert "Secure" not in attributes


@pytest.mark.parametrize(
    ("query", "expected_attributes", "secure"),
    [
        ("samesite=None&secure=1", ["SameSite=None", "Secure", "Path=/"], True),
        ("samesite=Strict", ["SameSite=Strict", "Path=/"], False),
        ("samesite=None&secure=0", ["SameSite=None", "Path=/"], False),
        ("path=/credentialed&secure=1", ["SameSite=Lax", "Secure", "Path=/credentialed"], True),
    ],
)
def test_set_cookie_attributes(
    client: Client, query: str, expected_attributes: list[str], secure: bool
) -> None:
    """set-cookie writes the requested SameSite, Secure and Path attributes."""
    response = client.get(f"/credentialed/set-cookie?name=k&value=v&{query}")
    attributes = set_cookie_attributes(response)

    assert response.status_code == 200
    assert attributes[0] == "k=v"
    for attribute in expected_attributes:
        assert attribute in attributes
    assert ("Secure" in attributes) is secure
    assert response.get_json()["secure"] is secure


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("value=v", "cookie name"),
        ("name=a%20b&value=v", "cookie name"),
        ("name=k&samesite=lax", "samesite"),
        ("name=k&secure=yes", "secure"),
        ("name=k&path=relative", "path"),
    ],
)
def test_set_cookie_rejects_invalid_query(client: Client, query: str, message: str) -> None:
    """set-cookie returns 400 naming the invalid query parameter, and sets no cookie."""
    response = client.get(f"/credentialed/set-cookie?{query}")

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_cookies_returns_received_cookies(client: Client) -> None:
    """cookies returns the cookies of the request as a JSON object."""
    response = client.get("/credentialed/cookies", headers={"Cookie": "a=1; b=two"})

    assert response.get_json() == {"a": "1", "b": "two"}


def test_cookies_round_trip(app: ApiApp) -> None:
    """A cookie set by set-cookie comes back in cookies."""
    client = Client(app)
    client.get("/credentialed/set-cookie?name=k&value=v")

    assert client.get("/credentialed/cookies").get_json() == {"k": "v"}


def test_redirect_targets_policy_path(client: Client) -> None:
    """redirect returns 302 to the `to` path under the same policy prefix."""
    response = client.get("/credentialed/redirect?to=echo", headers={"Origin": ORIGIN})

    assert response.status_code == 302
    assert response.headers["Location"] == "/credentialed/echo"
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_redirect_keeps_target_query(client: Client) -> None:
    """The `to` path may carry its own query string."""
    response = client.get("/wildcard/redirect?to=echo%3Fx%3D1")

    assert response.headers["Location"] == "/wildcard/echo?x=1"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_uses_requested_status(client: Client, status: int) -> None:
    """The optional `status` query sets the redirect status."""
    response = client.get(f"/none/redirect?to=cookies&status={status}")

    assert response.status_code == status
    assert response.headers["Location"] == "/none/cookies"


def test_redirect_followed_reaches_target(client: Client) -> None:
    """Following the redirect reaches the target endpoint."""
    response = client.get("/credentialed/redirect?to=echo", follow_redirects=True)

    assert response.status_code == 200
    assert response.get_json()["path"] == "/credentialed/echo"


@pytest.mark.parametrize(
    ("query", "message"),
    [("", "missing query parameter to"), ("to=/echo", "relative"), ("to=echo&status=200", "invalid status")],
)
def test_redirect_rejects_invalid_query(client: Client, query: str, message: str) -> None:
    """redirect returns 400 without a relative `to` or with a non-redirect status."""
    response = client.get(f"/credentialed/redirect?{query}")

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert "Location" not in response.headers


def test_basic_auth_accepts_matching_credentials(client: Client) -> None:
    """basic-auth returns 200 with the user for matching credentials."""
    response = client.get(
        "/credentialed/basic-auth/ann/s3cret", headers={"Authorization": basic_authorization("ann", "s3cret")}
    )

    assert response.status_code == 200
    assert response.get_json() == {"authenticated": True, "user": "ann"}


def test_basic_auth_decodes_utf8(client: Client) -> None:
    """basic-auth decodes credentials as UTF-8, and the password may contain a colon."""
    response = client.get(
        "/credentialed/basic-auth/j%C3%B6rg/p%C3%A4ss:word",
        headers={"Authorization": basic_authorization("jörg", "päss:word")},
    )

    assert response.status_code == 200
    assert response.get_json()["user"] == "jörg"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic_authorization("ann", "wrong"),
        basic_authorization("bob", "s3cret"),
        "Bearer s3cret",
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"ann").decode(),
        "Basic " + base64.b64encode("ann:s3cret".encode("latin-1") + b"\xff").decode(),
    ],
)
def test_basic_auth_rejects_bad_credentials(client: Client, authorization: str | None) -> None:
    """basic-auth returns 401 with a Basic challenge for missing or wrong credentials."""
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.get("/credentialed/basic-auth/ann/s3cret", headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="webvi-test"'


# Request log


def test_request_log_records_requests(client: Client, app: ApiApp) -> None:
    """The log records method, path, query, headers, cookies and the preflight flag."""
    preflight(client, "/credentialed/echo", "PUT", "x-custom")
    response = client.put(
        "/credentialed/echo?a=1", data=b"x", headers={"Origin": ORIGIN, "X-Custom": "yes", "Cookie": "k=v"}
    )
    [first, second] = app.requests

    assert first.preflight is True
    assert first.method == "OPTIONS"
    assert first.headers["access-control-request-method"] == "PUT"
    assert first.headers["access-control-request-headers"] == "x-custom"
    assert second.preflight is False
    assert second.method == "PUT"
    assert second.path == "/credentialed/echo"
    assert second.query_string == "a=1"
    assert second.headers["x-custom"] == "yes"
    assert second.headers["origin"] == ORIGIN
    assert all(name == name.lower() for name in second.headers)
    assert second.cookies == {"k": "v"}
    assert str(second.request_id) == response.headers["X-Request-Id"]


def test_request_log_records_unknown_paths(client: Client, app: ApiApp) -> None:
    """Requests that end in 404 are recorded too."""
    client.get("/open/echo")
    client.get("/credentialed/missing")

    assert [request.path for request in app.requests] == ["/open/echo", "/credentialed/missing"]


def test_request_log_clear_keeps_ids(client: Client, app: ApiApp) -> None:
    """clear() empties the log, and request ids keep counting up."""
    client.get("/credentialed/echo")
    app.clear()
    response = client.get("/credentialed/echo")

    assert len(app.requests) == 1
    assert app.requests[0].request_id == 2
    assert response.headers["X-Request-Id"] == "2"


def test_request_log_returns_copy(client: Client, app: ApiApp) -> None:
    """`requests` returns a snapshot that later requests do not change."""
    client.get("/credentialed/echo")
    snapshot = app.requests
    client.get("/credentialed/echo")

    assert len(snapshot) == 1
    assert len(app.requests) == 2


# Real servers on loopback


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: Message
    body: bytes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# No proxies, so that requests stay on loopback, and no redirects, so that tests see them.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


def fetch(
    url: str, method: str = "GET", headers: dict[str, str] | None = None, data: bytes | None = None
) -> Fetched:
    """Send one request and return the response, also for 3xx, 4xx and 5xx statuses."""
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with OPENER.open(request, timeout=10) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        with error:
            return Fetched(error.code, error.headers, error.read())


def test_api_app_serves_over_http(app: ApiApp) -> None:
    """ApiApp under wsgi_server serves real HTTP requests and records them."""
    with wsgi_server(app) as server:
        preflight_response = fetch(
            server.url + "credentialed/echo",
            method="OPTIONS",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-custom",
            },
        )
        echoed = fetch(
            server.url + "credentialed/echo?x=1", method="POST", headers={"Origin": ORIGIN}, data=b"hi"
        )
        large = fetch(server.url + "none/large/2")

    assert server.host == "127.0.0.1"
    assert preflight_response.status == 204
    assert preflight_response.headers["Access-Control-Allow-Headers"] == "x-custom"
    assert echoed.status == 200
    assert echoed.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert echoed.headers["Access-Control-Allow-Credentials"] == "true"
    assert json.loads(echoed.body)["body_text"] == "hi"
    assert json.loads(echoed.body)["query"] == {"x": "1"}
    assert len(large.body) == 2 * MIB
    assert large.body[MIB + 300] == (MIB + 300) % 256
    assert [request.preflight for request in app.requests] == [True, False, False]


@pytest.fixture(scope="module")
def httpbin() -> Iterator[RunningServer]:
    with httpbin_server() as server:
        yield server


def test_httpbin_server_binds_loopback(httpbin: RunningServer) -> None:
    """httpbin_server listens on 127.0.0.1 and its URL ends with a slash."""
    assert httpbin.host == "127.0.0.1"
    assert httpbin.url == f"http://127.0.0.1:{httpbin.port}/"


def test_httpbin_get_echoes_query(httpbin: RunningServer) -> None:
    """httpbin's /get echoes the query parameters and headers."""
    response = fetch(httpbin.url + "get?a=1", headers={"X-Custom": "yes"})
    echoed = json.loads(response.body)

    assert response.status == 200
    assert echoed["args"] == {"a": "1"}
    assert echoed["headers"]["X-Custom"] == "yes"


def test_httpbin_anything_echoes_body(httpbin: RunningServer) -> None:
    """httpbin's /anything echoes a POST body and method."""
    body = json.dumps({"value": 42}).encode()
    response = fetch(
        httpbin.url + "anything", method="POST", headers={"Content-Type": "application/json"}, data=body
    )
    echoed = json.loads(response.body)

    assert response.status == 200
    assert echoed["method"] == "POST"
    assert echoed["data"] == body.decode()
    assert echoed["json"] == {"value": 42}


def test_httpbin_status_returns_418(httpbin: RunningServer) -> None:
    """httpbin's /status/418 returns 418."""
    response = fetch(httpbin.url + "status/418")

    assert response.status == 418
    assert b"teapot" in response.body


def test_httpbin_cookies_set_redirects(httpbin: RunningServer) -> None:
    """/cookies/set sets the cookie and redirects to /cookies, which echoes cookies."""
    response = fetch(httpbin.url + "cookies/set?k=v")
    cookies = fetch(httpbin.url + "cookies", headers={"Cookie": "k=v"})

    assert response.status == 302
    assert response.headers["Location"] == "/cookies"
    assert response.headers["Set-Cookie"].startswith("k=v;")
    assert json.loads(cookies.body) == {"cookies": {"k": "v"}}


def test_httpbin_echoes_origin_with_credentials(httpbin: RunningServer) -> None:
    """httpbin echoes Origin and allows credentials, on requests and preflights."""
    response = fetch(httpbin.url + "get", headers={"Origin": ORIGIN})
    preflight_response = fetch(
        httpbin.url + "get",
        method="OPTIONS",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-custom",
        },
    )

    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert preflight_response.status == 200
    assert preflight_response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert preflight_response.headers["Access-Control-Allow-Credentials"] == "true"
    assert preflight_response.headers["Access-Control-Allow-Headers"] == "authorization, x-custom"


def test_httpbin_server_stops_on_exit() -> None:
    """Leaving httpbin_server stops the process, so its port refuses connections."""
    with httpbin_server() as server:
        assert fetch(server.url + "get").status == 200

    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=5).close()


def test_httpbin_server_missing_python(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A missing httpbin interpreter raises RuntimeError that names install_httpbin."""
    monkeypatch.setenv("WEBVI_HTTPBIN_PYTHON", str(tmp_path / "missing" / "python"))

    with pytest.raises(RuntimeError, match="install_httpbin"):
        with httpbin_server():
            pass


def test_httpbin_server_startup_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that prints no LISTENING line in time is stopped and reported with RuntimeError."""
    monkeypatch.setattr(httpbin_support, "STARTUP_TIMEOUT_SECONDS", 0.001)

    with pytest.raises(RuntimeError, match="timed out: no LISTENING line within 0.001 s"):
        with httpbin_server():
            pass
