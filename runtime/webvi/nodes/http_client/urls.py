"""URL checks and display for the HTTP Client nodes.

The URL is split with the regular expression of RFC 3986, appendix B, instead of
urllib.parse. Importing urllib.parse took about 60 ms of every page load in Pyodide
(measured on the benchmark machine). The browser parses the URL again before it sends
anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 3986, appendix B: scheme, authority, path, query and fragment of any URI reference.
_URI = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$", re.DOTALL)
MAX_URL_SHOWN = 300


@dataclass(frozen=True)
class URLParts:
    """The components of a URL reference; None where the URL has no such part."""

    scheme: str | None
    authority: str | None
    path: str
    query: str | None
    fragment: str | None

    @property
    def has_userinfo(self) -> bool:
        return self.authority is not None and "@" in self.authority

    @property
    def host_and_port(self) -> str | None:
        """The authority without user name and password."""
        return None if self.authority is None else self.authority.rpartition("@")[2]

    def port_problem(self) -> str | None:
        """Return why the port is invalid (not a number from 0 to 65535), or None."""
        host_port = self.host_and_port
        if not host_port:
            return None
        if host_port.startswith("["):
            _, bracket, rest = host_port.partition("]")
            if not bracket:
                return "the IPv6 address lacks its closing bracket"
            if rest and not rest.startswith(":"):
                return "unexpected text after the IPv6 address"
            port = rest[1:]
        else:
            port = host_port.partition(":")[2]
        if port == "":
            return None
        if not (port.isascii() and port.isdigit()) or int(port) > 65535:
            return f"port {port!r} is not a number from 0 to 65535"
        return None

    def build(self, with_userinfo: bool = True, with_query: bool = True) -> str:
        text = f"{self.scheme}:" if self.scheme is not None else ""
        if self.authority is not None:
            text += "//" + (self.authority if with_userinfo else self.host_and_port)
        text += self.path
        if with_query and self.query is not None:
            text += "?" + self.query
        if with_query and self.fragment is not None:
            text += "#" + self.fragment
        return text


def split_url(url: str) -> URLParts:
    match = _URI.match(url)
    assert match is not None  # every string matches: each group is optional
    scheme, authority, path, query, fragment = match.groups()
    return URLParts(scheme, authority, path, query, fragment)


def display_url(url: str) -> str:
    """Return url without user name and password, shortened to MAX_URL_SHOWN characters, for messages."""
    parts = split_url(url)
    if parts.has_userinfo:
        url = parts.build(with_userinfo=False)
    return url if len(url) <= MAX_URL_SHOWN else url[:MAX_URL_SHOWN] + f"… ({len(url)} characters)"


def log_url(url: str) -> str:
    """Return scheme, host and path of url: query strings often carry tokens, so logs leave them out."""
    return split_url(url).build(with_userinfo=False, with_query=False)
