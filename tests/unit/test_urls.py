"""URL splitting for the HTTP Client nodes, checked against urllib.parse on CPython."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webvi.nodes.http_client.urls import display_url, log_url, split_url

SAMPLES = [
    "https://api.example.test:8443/data?q=1#top",
    "http://user:pa:ss@host.test/path",
    "data/readings.json",
    "//cdn.example.test/x",
    "https://[::1]:8080/",
    "https://[::1]/",
    "?only=query",
    "",
]


@pytest.mark.parametrize("url", SAMPLES)
def test_split_matches_urllib(url: str) -> None:
    parts = split_url(url)
    expected = urllib.parse.urlsplit(url)

    assert (parts.scheme or "") == expected.scheme
    assert (parts.authority or "") == expected.netloc
    assert parts.path == expected.path
    assert (parts.query or "") == expected.query
    assert (parts.fragment or "") == expected.fragment


@given(st.text(alphabet=st.sampled_from(list("ab:/?#@[]1.%- ")), max_size=40))
def test_split_round_trips(url: str) -> None:
    assert split_url(url).build() == url


@pytest.mark.parametrize(
    ("url", "valid"),
    [("http://h.test:80/", True), ("http://h.test:/", True), ("http://h.test:65535/", True),
     ("http://h.test:65536/", False), ("http://h.test:port/", False), ("http://h.test:-1/", False),
     ("http://[::1:8080/", False), ("http://[::1]x/", False), ("http://u:p@h.test:99999/", False),
     ("http://h.test:٣/", False)],
)
def test_port_problems(url: str, valid: bool) -> None:
    assert (split_url(url).port_problem() is None) is valid


def test_display_url_hides_userinfo() -> None:
    assert display_url("https://bob:s3cret@api.example.test/x?y=1") == "https://api.example.test/x?y=1"


def test_log_url_drops_query_and_userinfo() -> None:
    assert log_url("https://bob:s3cret@api.example.test/x?token=abc#f") == "https://api.example.test/x"
