"""The seam between the HTTP Client nodes and the network.

In the page the transport is the browser's `fetch` (webvi.browser.fetch); CPython unit
tests may pass another object with the same `send` method. A transport reports a
failure by raising `TransportFailure` with one of the `FailureKind` values; the nodes map
those to NI's error codes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class FailureKind(enum.Enum):
    """The reason a request produced no response."""

    TIMEOUT = "timeout"  # the timeout elapsed first
    ABORTED = "aborted"  # the VI was stopped
    NETWORK = "network"  # fetch rejected: unreachable, CORS, TLS; the browser hides which
    BODY_INTERRUPTED = "body_interrupted"  # the response arrived, then reading its body failed
    INVALID_URL = "invalid_url"  # the URL cannot be parsed or uses a scheme fetch rejects
    INVALID_HEADER = "invalid_header"  # the browser rejected a request header
    BLOCKED_BY_PAGE = "blocked_by_page"  # the page's Content-Security-Policy forbids the URL
    OUT_OF_MEMORY = "out_of_memory"  # the response body does not fit in memory


class Diagnosis(enum.Enum):
    """The cause of a failed credentialed cross-origin request, as found by probes without credentials."""

    UNREACHABLE = "unreachable"  # no response even to a request that ignores CORS
    ORIGIN_NOT_ALLOWED = "origin_not_allowed"  # responds, but not to this page's origin
    CREDENTIALS_NOT_ALLOWED = "credentials_not_allowed"  # allows the origin, not credentials
    HEADERS_NOT_ALLOWED = "headers_not_allowed"  # allows the origin, not the request's headers
    UNKNOWN = "unknown"  # the probes could not tell


@dataclass(frozen=True)
class DiagnosisReport:
    """The result of `Transport.diagnose`, with the page origin the server received."""

    diagnosis: Diagnosis
    page_origin: str = ""


class TransportFailure(Exception):
    """A request failed before a response arrived.

    `detail` is the browser's own message. `cross_origin` is True when the URL's origin
    differs from the page's, and None when the transport cannot tell.
    """

    def __init__(self, kind: FailureKind, detail: str = "", cross_origin: bool | None = None) -> None:
        self.kind = kind
        self.detail = detail
        self.cross_origin = cross_origin
        super().__init__(f"{kind.value}: {detail}" if detail else kind.value)


@dataclass(frozen=True)
class HTTPRequest:
    """One request as a method node sends it.

    `timeout_ms` below 0 waits forever; 0 fails at once. `credentials` is fetch's
    credentials mode: "include" or "same-origin". `read_body` False skips reading the
    response body (HEAD, or no body output wired).
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    credentials: str = "same-origin"
    timeout_ms: int = 10_000
    read_body: bool = True
    cache: str = "no-store"


@dataclass(frozen=True)
class HTTPResponse:
    """The final response after redirects: status, headers the page may read, raw body."""

    status: int
    status_text: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    url: str = ""
    redirected: bool = False

    def header(self, name: str) -> str | None:
        """Return the value of a response header, matching its name in any letter case."""
        wanted = name.lower()
        for header_name, value in self.headers:
            if header_name.lower() == wanted:
                return value
        return None


class Transport(Protocol):
    """Sends an HTTP request; raises TransportFailure when no response arrives.

    A transport may also offer `async diagnose(request) -> DiagnosisReport`, which sends
    probes without credentials to find out why a credentialed GET or HEAD failed.
    """

    async def send(self, request: HTTPRequest) -> HTTPResponse: ...
