"""Request header checks, Basic authentication and the formats of header outputs.

The browser's fetch throws on a header name that is not an HTTP token or a value with
CR, LF, NUL or a character above U+00FF, and it silently drops forbidden request headers
(https://fetch.spec.whatwg.org/#forbidden-request-header). The nodes check both before
sending, so that CPython and the browser report the same errors and no header vanishes
without a warning.
"""

from __future__ import annotations

import base64
import codecs
import re

# RFC 9110 section 5.6.2: token = 1*tchar.
TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Fetch standard, forbidden request-header names (compared in lower case).
FORBIDDEN_NAMES = frozenset(
    {
        "accept-charset", "accept-encoding", "access-control-request-headers",
        "access-control-request-method", "connection", "content-length", "cookie", "cookie2", "date",
        "dnt", "expect", "host", "keep-alive", "origin", "referer", "set-cookie", "te", "trailer",
        "transfer-encoding", "upgrade", "via",
        # Chromium 156 also leaves a page's User-Agent out of fetch requests.
        "user-agent",
    }
)
FORBIDDEN_PREFIXES = ("proxy-", "sec-")
# Method-override headers are forbidden when they name one of these methods.
METHOD_OVERRIDES = frozenset({"x-http-method", "x-http-method-override", "x-method-override"})
FORBIDDEN_METHODS = frozenset({"connect", "trace", "track"})

DEFAULT_CONTENT_TYPE = "application/x-www-form-urlencoded"


def header_problem(name: str, value: str) -> str | None:
    """Return why fetch would reject this header, or None when it accepts it."""
    if not TOKEN.match(name):
        return "the name is not an HTTP token (letters, digits and !#$%&'*+-.^_`|~ only, no spaces)"
    if any(character in value for character in "\r\n\0"):
        return "the value contains CR, LF or NUL"
    if any(ord(character) > 0xFF for character in value):
        return "the value contains a character above U+00FF, which HTTP headers cannot carry"
    return None


def is_forbidden(name: str, value: str) -> bool:
    """Return True when the browser drops this request header without telling the page."""
    lowered = name.lower()
    if lowered in FORBIDDEN_NAMES or lowered.startswith(FORBIDDEN_PREFIXES):
        return True
    if lowered in METHOD_OVERRIDES:
        methods = {part.strip().lower() for part in value.split(",")}
        return bool(methods & FORBIDDEN_METHODS)
    return False


def basic_authorization(username: str, password: str) -> str:
    """Return an Authorization header value for HTTP Basic authentication, UTF-8 encoded (RFC 7617)."""
    credentials = f"{username}:{password}".encode()
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def format_response_headers(status: int, status_text: str, headers: tuple[tuple[str, str], ...]) -> str:
    """Return the headers output: an HTTP/1.1 status line, then one CRLF-terminated line per header.

    The browser does not tell the page which HTTP version was used, so the status line
    always reads HTTP/1.1, as NI's browser runtime writes it.
    """
    # With an empty reason phrase (HTTP/2) the line keeps its trailing space, as NI's does.
    lines = [f"HTTP/1.1 {status} {status_text}"]
    lines += [f"{name.lower()}: {value}" for name, value in headers]
    return "\r\n".join(lines) + "\r\n"


def response_charset(content_type: str | None) -> str:
    """Return the Python codec for a Content-Type's charset parameter, UTF-8 when absent or unknown."""
    # The parameters follow the media type, separated by ";" (RFC 9110, section 8.3.1).
    for parameter in (content_type or "").split(";")[1:]:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset":
            continue
        try:
            return codecs.lookup(value.strip().strip('"').strip()).name
        except LookupError:
            return "utf-8"
    return "utf-8"


def decode_body(body: bytes, content_type: str | None) -> str:
    """Decode a response body for the String output; bad bytes become U+FFFD, never an error."""
    return body.decode(response_charset(content_type), errors="replace")
