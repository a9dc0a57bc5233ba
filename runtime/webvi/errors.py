"""Error clusters, LabVIEW's merge rule and the table of error codes webvi reports.

An error cluster is LabVIEW's (status, code, source) triple. Status True is an error;
status False with a non-zero code is a warning. A node that reports an error writes a
source of the form `<node name> in <VI name>` followed by a line with the message, and the
message ends with what the user should check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class ErrorCluster:
    """LabVIEW's error cluster: status (True for an error), code and source."""

    status: bool = False
    code: int = 0
    source: str = ""

    NO_ERROR: ClassVar[ErrorCluster]

    @property
    def is_error(self) -> bool:
        return self.status

    @property
    def is_warning(self) -> bool:
        return not self.status and self.code != 0

    def __str__(self) -> str:
        if not self.status and self.code == 0:
            return "no error"
        kind = "error" if self.status else "warning"
        return f"{kind} {self.code}: {self.source}"


ErrorCluster.NO_ERROR = ErrorCluster()


def merge(existing: ErrorCluster, new: ErrorCluster) -> ErrorCluster:
    """Merge two error clusters the way LabVIEW's nodes do.

    The first error wins: an existing error, else the new error, else an existing
    warning, else the new warning, else no error.
    """
    if existing.status:
        return existing
    if new.status:
        return new
    if existing.code != 0:
        return existing
    return new


# --- error codes ------------------------------------------------------------------------

# NI's codes for the HTTP Client palette, as the browser runtime reports them.
INVALID_ARGUMENT = 1
MEMORY_FULL = 2
TIMEOUT = 56
URL_INVALID = 363500
REQUEST_ABORTED = 363508
HEADER_NOT_FOUND = 363528
NETWORK_ERROR = 363650
HEADER_INVALID = 363651
COOKIE_FILE_UNSUPPORTED = 363652
VERIFY_SERVER_REQUIRED = 363653
OUTPUT_FILE_UNSUPPORTED = 363654
INVALID_REFNUM = -1967362020

# webvi's own codes, in LabVIEW's range for user-defined errors (5000 to 9999).
NODE_EXCEPTION = 5001
NODE_OUTPUT_INVALID = 5002
HEADER_DROPPED = 5101

# One message per code; a node may add context (a URL, a header name) on further lines.
MESSAGES: dict[int, str] = {
    INVALID_ARGUMENT: "An input is invalid. The next line names it and what to change.",
    MEMORY_FULL: (
        "Memory is full: the response body does not fit in the page's memory (WebAssembly allows at most "
        "4 GiB, and the browser may allow less). Request less data, for example a range or a smaller page."
    ),
    TIMEOUT: "The request did not finish within the timeout. Check that the server is up, or raise timeout in ms.",
    URL_INVALID: "The URL is not valid. Check its scheme, host and port, for example https://example.com/path.",
    REQUEST_ABORTED: "The request was aborted because the VI stopped.",
    HEADER_NOT_FOUND: "The header does not exist on the client handle. Check its name, which is case-sensitive.",
    NETWORK_ERROR: (
        "The browser could not complete the request (network error, possibly CORS). The browser hides the "
        "reason from the page; its developer console shows it. Check that the server is reachable and sends "
        "Access-Control-Allow-Origin for this page's origin."
    ),
    HEADER_INVALID: (
        "The browser rejected a request header. A name must be an HTTP token and a value must not contain "
        "CR, LF or NUL. Fix or delete the header on the client handle."
    ),
    COOKIE_FILE_UNSUPPORTED: (
        "A cookie file is not supported in a browser, which keeps cookies itself. Leave cookie file empty."
    ),
    VERIFY_SERVER_REQUIRED: (
        "verify server must be True in a browser, which always validates TLS certificates. Set it to True."
    ),
    OUTPUT_FILE_UNSUPPORTED: (
        "An output file is not supported in a browser. Leave output file empty and use the body output."
    ),
    INVALID_REFNUM: "The client handle is not open. Check that it comes from Open Handle and is closed only once.",
    NODE_EXCEPTION: (
        "The node failed with an unexpected exception, which is a bug in its implementation. The log has the "
        "traceback."
    ),
    NODE_OUTPUT_INVALID: (
        "The node returned an output that does not match its terminal, which is a bug in its implementation."
    ),
    HEADER_DROPPED: (
        "The browser does not let a page set this header, so the request was sent without it. Delete it "
        "from the client handle; the browser sets it itself where it applies."
    ),
}


def error_source(node_name: str, vi_name: str, message: str) -> str:
    """Return an error source: `<node name> in <VI name>`, then the message on its own line."""
    return f"{node_name} in {vi_name}\n{message}"


def describe(code: int, context: str = "") -> str:
    """Return the table's message for code followed by context lines; context alone for other codes."""
    message = MESSAGES.get(code)
    if message is None:
        return context or f"Error {code}."
    return f"{message}\n{context}" if context else message
