"""Small WSGI apps that the browser tests call cross-origin."""

from __future__ import annotations

import base64
import binascii
import gzip
import itertools
import json
import logging
import random
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


@Request.application
def hello_api(request: Request) -> Response:
    """Respond to GET /hello with JSON, allowing any origin (no credentials)."""
    if request.path != "/hello":
        return Response("not found", status=404, headers={"Access-Control-Allow-Origin": "*"})
    body = json.dumps({"message": "hello from the API", "origin": request.headers.get("Origin")})
    return Response(body, mimetype="application/json", headers={"Access-Control-Allow-Origin": "*"})


# ApiApp: one API served under five CORS policies, which the first path segment selects.

logger = logging.getLogger(__name__)

EXPOSED_HEADERS = "X-Request-Id, X-Custom"
BYTE_PATTERN = bytes(range(256))
MIB = 1024 * 1024
# Byte i of a /bytes/ or /large/ body is i % 256. A MiB is a whole number of patterns,
# so every MiB chunk is the same.
MIB_CHUNK = BYTE_PATTERN * (MIB // len(BYTE_PATTERN))
LATIN1_TEXT = "café naïve über señor ÿ"
HTML_BODY = (
    '<b id="injected">bold</b><script>window.injected = true</script>'
    '<img src=x onerror="window.injected = true">'
)
BASIC_REALM = "webvi-test"
# Limits that stop a mistyped test from tying up a server thread or memory for long.
MAX_DELAY_MS = 60_000
MAX_BYTES = 64 * MIB
MAX_LARGE_MIB = 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
SAMESITE_VALUES = ("None", "Lax", "Strict")
# A cookie name is an HTTP token (RFC 6265, section 4.1.1).
COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclass(frozen=True)
class CorsPolicy:
    """CORS behaviour of ApiApp under one path prefix.

    allow_origin is "echo" (send the request's Origin back), "*" or None (no CORS headers
    at all). Preflights leave the headers in rejected_request_headers (lower case) out of
    Access-Control-Allow-Headers.
    """

    name: str
    allow_origin: Literal["echo", "*"] | None
    allow_credentials: bool = False
    rejected_request_headers: frozenset[str] = frozenset()


POLICIES = {
    policy.name: policy
    for policy in (
        CorsPolicy("credentialed", allow_origin="echo", allow_credentials=True),
        CorsPolicy("wildcard", allow_origin="*"),
        CorsPolicy("echo-origin", allow_origin="echo"),
        CorsPolicy("none", allow_origin=None),
        CorsPolicy(
            "no-authorization",
            allow_origin="echo",
            allow_credentials=True,
            rejected_request_headers=frozenset({"authorization"}),
        ),
    )
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request that ApiApp received. request_id is the X-Request-Id it was sent."""

    request_id: int
    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    cookies: dict[str, str]
    preflight: bool


class ApiApp:
    """A WSGI test API whose first path segment selects a CORS policy from POLICIES.

    `/credentialed/echo` returns the same body as `/none/echo` but with different CORS
    headers. The endpoints after the policy segment are in ROUTES. Every request, preflights
    included, is recorded in `requests`. The app is safe to call from several server
    threads at once.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._next_request_id = itertools.count(1)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the requests received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget the requests received so far. Request ids keep counting up."""
        with self._lock:
            self._requests.clear()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._respond(request)
        except Exception:
            # Return 500 instead of letting the server log a traceback and drop the
            # connection. Failures in endpoints do not reach this point: _respond
            # returns a 500 with CORS headers for them.
            logger.exception("ApiApp failed on %s %s", request.method, request.full_path)
            response = Response("internal server error", status=500, mimetype="text/plain")
        return response(environ, start_response)

    def _record(self, request: Request, preflight: bool) -> int:
        with self._lock:
            request_id = next(self._next_request_id)
            self._requests.append(
                RecordedRequest(
                    request_id=request_id,
                    method=request.method,
                    path=request.path,
                    query_string=request.query_string.decode("utf-8", errors="replace"),
                    headers={name.lower(): value for name, value in request.headers.items()},
                    cookies=request.cookies.to_dict(),
                    preflight=preflight,
                )
            )
        return request_id

    def _respond(self, request: Request) -> Response:
        # A CORS preflight is an OPTIONS request with Access-Control-Request-Method.
        # Any other OPTIONS request reaches the endpoint.
        preflight = request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
        request_id = self._record(request, preflight)
        policy_name, _, endpoint_path = request.path[1:].partition("/")
        policy = POLICIES.get(policy_name)

        if policy is None:
            response = _text(f"not found: the first path segment must be one of {', '.join(POLICIES)}", 404)
        elif preflight:
            return _preflight_response(request, policy)
        else:
            try:
                response = _dispatch(request, policy, "/" + endpoint_path)
            except Exception:
                # The 500 gets the policy's CORS headers below, so a script can read it.
                logger.exception(
                    "ApiApp endpoint failed on request %d, %s %s", request_id, request.method, request.full_path
                )
                response = _text("internal server error", 500)
            _add_cors_headers(response, request, policy)

        response.headers["X-Request-Id"] = str(request_id)
        response.headers["Cache-Control"] = "no-store"
        return response


def _dispatch(request: Request, policy: CorsPolicy, endpoint_path: str) -> Response:
    not_found = _text(f"not found: {request.path}", 404)
    # MapAdapter.match() strips leading slashes, which would make //echo match /echo.
    if endpoint_path.startswith("//"):
        return not_found
    adapter = ROUTES.bind("localhost")
    try:
        handler, arguments = adapter.match(endpoint_path, method=request.method)
    except NotFound:
        return not_found
    return handler(request, policy, **arguments)


def _add_origin_headers(response: Response, request: Request, policy: CorsPolicy) -> None:
    """Add the Access-Control-Allow-Origin, -Allow-Credentials and Vary headers of the policy."""
    if policy.allow_origin == "*":
        response.headers["Access-Control-Allow-Origin"] = "*"
    elif policy.allow_origin == "echo":
        response.vary.add("Origin")
        origin = request.headers.get("Origin")
        if origin is not None:
            response.headers["Access-Control-Allow-Origin"] = origin
    if policy.allow_credentials:
        response.headers["Access-Control-Allow-Credentials"] = "true"


def _add_cors_headers(response: Response, request: Request, policy: CorsPolicy) -> None:
    if policy.allow_origin is None:
        return
    _add_origin_headers(response, request, policy)
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS


def _preflight_response(request: Request, policy: CorsPolicy) -> Response:
    """Return the 204 response to a preflight, allowing the requested method and headers.

    Max-Age 0 stops the browser from caching the result, so it sends a preflight before
    every request that needs one.
    """
    response = Response(status=204)
    if policy.allow_origin is None:
        return response

    _add_origin_headers(response, request, policy)
    response.headers["Access-Control-Allow-Methods"] = request.headers["Access-Control-Request-Method"]
    header_list = request.headers.get("Access-Control-Request-Headers", "")
    requested_headers = [name.strip() for name in header_list.split(",") if name.strip()]
    allowed_headers = [name for name in requested_headers if name.lower() not in policy.rejected_request_headers]
    if allowed_headers:
        response.headers["Access-Control-Allow-Headers"] = ", ".join(allowed_headers)
    response.headers["Access-Control-Max-Age"] = "0"
    return response


def _text(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/plain")


def _json(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


# Endpoint handlers. Each takes the request, the CORS policy and the URL arguments.


def _echo(request: Request, policy: CorsPolicy) -> Response:
    body = request.get_data()
    return _json(
        {
            "method": request.method,
            "path": request.path,
            # The first value of each query parameter. query_string has all of them.
            "query": request.args.to_dict(),
            "query_string": request.query_string.decode("utf-8", errors="replace"),
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "cookies": request.cookies.to_dict(),
            "body_base64": base64.b64encode(body).decode("ascii"),
            "body_text": body.decode("utf-8", errors="replace"),
            "content_type": request.headers.get("Content-Type"),
        }
    )


def _status(request: Request, policy: CorsPolicy, code: int) -> Response:
    if not 200 <= code <= 599:
        return _text(f"invalid status code {code}: use 200 to 599", 400)
    # 204, 205 and 304 responses must not have a body (RFC 9110, sections 15.3.5,
    # 15.3.6 and 15.4.5).
    if code in (204, 205, 304):
        return Response(status=code)
    return _text(f"status {code}", code)


def _delay(request: Request, policy: CorsPolicy, ms: int) -> Response:
    if ms > MAX_DELAY_MS:
        return _text(f"invalid delay {ms} ms: the maximum is {MAX_DELAY_MS} ms", 400)
    deadline = time.monotonic() + ms / 1000
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(0.05, remaining))
    return _text(f"waited {ms} ms")


def _bytes(request: Request, policy: CorsPolicy, n: int) -> Response:
    if n > MAX_BYTES:
        return _text(f"invalid size {n} bytes: the maximum is {MAX_BYTES}, use /large/ for more", 400)
    whole_patterns, rest = divmod(n, len(BYTE_PATTERN))
    return Response(BYTE_PATTERN * whole_patterns + BYTE_PATTERN[:rest], mimetype="application/octet-stream")


def _large(request: Request, policy: CorsPolicy, mib: int) -> Response:
    """Send mib MiB; with ?stall_ms=N the server waits N ms after the first MiB.

    With ?truncate=1 it stops after the first MiB, short of its Content-Length.
    """
    if mib > MAX_LARGE_MIB:
        return _text(f"invalid size {mib} MiB: the maximum is {MAX_LARGE_MIB} MiB", 400)
    stall_ms = request.args.get("stall_ms", 0, type=int)
    if not 0 <= stall_ms <= MAX_DELAY_MS:
        return _text(f"invalid stall_ms {stall_ms}: use 0 to {MAX_DELAY_MS}", 400)

    truncate = request.args.get("truncate") == "1"

    def chunks() -> Iterable[bytes]:
        for index in range(mib):
            if index == 1 and truncate:
                return
            if index == 1 and stall_ms:
                time.sleep(stall_ms / 1000)
            yield MIB_CHUNK

    response = Response(chunks(), mimetype="application/octet-stream", direct_passthrough=True)
    response.content_length = mib * MIB
    return response


def gzip_plain_body(random_kib: int, zero_kib: int) -> bytes:
    """Return the decoded body of /gzip/<random_kib>/<zero_kib>: seeded random bytes, then zeros."""
    return random.Random(random_kib).randbytes(random_kib * 1024) + bytes(zero_kib * 1024)


def _gzip(request: Request, policy: CorsPolicy, random_kib: int, zero_kib: int) -> Response:
    """Send a gzip-encoded body whose Content-Length (the encoded size) differs from its decoded size.

    Random bytes grow a little under gzip and zeros shrink to almost nothing, so the
    two sizes select whether the decoded body is shorter or longer than announced.
    """
    if (random_kib + zero_kib) * 1024 > MAX_BYTES:
        return _text(f"invalid size {random_kib + zero_kib} KiB: the maximum is {MAX_BYTES // 1024} KiB", 400)
    encoded = gzip.compress(gzip_plain_body(random_kib, zero_kib), compresslevel=1)
    return Response(encoded, mimetype="application/octet-stream", headers={"Content-Encoding": "gzip"})


def _latin1(request: Request, policy: CorsPolicy) -> Response:
    return Response(LATIN1_TEXT.encode("iso-8859-1"), content_type="text/plain; charset=iso-8859-1")


def _html(request: Request, policy: CorsPolicy) -> Response:
    return Response(HTML_BODY, mimetype="text/html")


def _custom_header(request: Request, policy: CorsPolicy) -> Response:
    response = _text("sent X-Custom and X-Hidden")
    response.headers["X-Custom"] = "custom value"
    response.headers["X-Hidden"] = "hidden"
    return response


def _set_cookie(request: Request, policy: CorsPolicy) -> Response:
    """Set the cookie that the query describes: name, value, samesite, secure (1 or 0), path."""
    name = request.args.get("name", "")
    value = request.args.get("value", "")
    samesite = request.args.get("samesite", "Lax")
    secure = request.args.get("secure", "0")
    path = request.args.get("path", "/")
    if not COOKIE_NAME.fullmatch(name):
        return _text(f"invalid cookie name {name!r}: give a token in the query parameter name", 400)
    if samesite not in SAMESITE_VALUES:
        return _text(f"invalid samesite {samesite!r}: use one of {', '.join(SAMESITE_VALUES)}", 400)
    if secure not in ("0", "1"):
        return _text(f"invalid secure {secure!r}: use 1 or 0", 400)
    if not path.startswith("/"):
        return _text(f"invalid path {path!r}: it must start with /", 400)

    cookie = {"name": name, "value": value, "samesite": samesite, "secure": secure == "1", "path": path}
    response = _json(cookie)
    response.set_cookie(name, value, path=path, secure=secure == "1", samesite=samesite)
    return response


def _cookies(request: Request, policy: CorsPolicy) -> Response:
    return _json(request.cookies.to_dict())


def _redirect(request: Request, policy: CorsPolicy) -> Response:
    """Redirect to the query's `to`, a path under this policy's prefix, with the query's `status` or 302."""
    target = request.args.get("to")
    status = request.args.get("status", "302")
    if not target:
        return _text("missing query parameter to: give a path relative to the policy prefix", 400)
    if target.startswith("/"):
        return _text(f"invalid to {target!r}: give a path relative to /{policy.name}/", 400)
    if status not in {str(code) for code in REDIRECT_STATUSES}:
        return _text(f"invalid status {status!r}: use one of {', '.join(map(str, REDIRECT_STATUSES))}", 400)
    return redirect(f"/{policy.name}/{target}", code=int(status))


def _basic_auth(request: Request, policy: CorsPolicy, user: str, password: str) -> Response:
    if _basic_credentials(request.headers.get("Authorization")) == (user, password):
        return _json({"authenticated": True, "user": user})
    response = _text("unauthorized", 401)
    response.headers["WWW-Authenticate"] = f'Basic realm="{BASIC_REALM}"'
    return response


def _basic_credentials(authorization: str | None) -> tuple[str, str] | None:
    """Return (user, password) from a Basic Authorization header, or None if there is none."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    if not separator:
        return None
    return user, password


# The endpoints under each policy prefix. All methods reach every endpoint.
ROUTES = Map(
    [
        Rule("/echo", endpoint=_echo),
        Rule("/status/<int:code>", endpoint=_status),
        Rule("/delay/<int:ms>", endpoint=_delay),
        Rule("/bytes/<int:n>", endpoint=_bytes),
        Rule("/large/<int:mib>", endpoint=_large),
        Rule("/gzip/<int:random_kib>/<int:zero_kib>", endpoint=_gzip),
        Rule("/latin1", endpoint=_latin1),
        Rule("/html", endpoint=_html),
        Rule("/custom-header", endpoint=_custom_header),
        Rule("/set-cookie", endpoint=_set_cookie),
        Rule("/cookies", endpoint=_cookies),
        Rule("/redirect", endpoint=_redirect),
        Rule("/basic-auth/<user>/<password>", endpoint=_basic_auth),
    ],
    # Without this, werkzeug redirects /status//200 to /status/200 instead of returning
    # 404.
    merge_slashes=False,
)
