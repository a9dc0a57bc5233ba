"""Why a credentialed request failed: probes without credentials, against real servers."""

from __future__ import annotations


import pytest
from playwright.sync_api import Page

from support.apps import ApiApp
from support.browser import run_vi
from support.servers import RunningServer, free_port
from support.vis import request_vi


def failed_source(page: Page, vi: str, url: str) -> str:
    result = run_vi(page, vi, {"url": url})
    error = result["indicators"]["error"]
    assert error["code"] == 363650, error
    return error["source"]


def test_diagnosis_unreachable_server(booted_page: Page) -> None:
    source = failed_source(booted_page, request_vi(include=True), f"http://127.0.0.1:{free_port()}/echo")

    assert "Diagnosis: the server could not be reached" in source


def test_diagnosis_origin_not_allowed(booted_page: Page, api: RunningServer) -> None:
    origin = booted_page.evaluate("location.origin")

    source = failed_source(booted_page, request_vi(include=True), api.url + "none/echo")

    assert f"does not allow this page's origin ({origin}) at all" in source
    assert f"Access-Control-Allow-Origin: {origin}" in source


@pytest.mark.parametrize("policy", ["wildcard", "echo-origin"])
def test_diagnosis_credentials_not_allowed(booted_page: Page, api: RunningServer, policy: str) -> None:
    source = failed_source(booted_page, request_vi(include=True), api.url + f"{policy}/echo")

    assert "allows this page's origin" in source
    assert "without credentials but not with them" in source


def test_diagnosis_headers_not_allowed(booted_page: Page, api: RunningServer) -> None:
    vi = request_vi(include=True, headers=(("Authorization", "Bearer s3cret-token"),))

    source = failed_source(booted_page, vi, api.url + "no-authorization/echo")

    assert "does not allow the request's headers (Authorization)" in source
    assert "s3cret-token" not in source


def test_post_is_never_probed(booted_page: Page, api: RunningServer, api_app: ApiApp) -> None:
    """A failed credentialed POST is reported without probes: the server receives one request."""
    source = failed_source(booted_page, request_vi("POST", include=True, buffer="a=1"), api.url + "wildcard/echo")

    assert "Diagnosis" not in source
    assert [request.method for request in api_app.requests] == ["POST"]


def test_probe_off_sends_nothing_more(booted_page: Page, api: RunningServer, api_app: ApiApp) -> None:
    source = failed_source(booted_page, request_vi(include=True, diagnose=False), api.url + "wildcard/echo")

    assert "Diagnosis" not in source
    assert [request.method for request in api_app.requests] == ["GET"]


def test_probes_carry_no_cookies(booted_page: Page, api: RunningServer, api_app: ApiApp) -> None:
    """The probes omit credentials: the only request with the cookie is the user's own."""
    run_vi(booted_page, request_vi(include=True), {"url": api.url + "credentialed/set-cookie?name=probe&value=1&samesite=Lax"})
    api_app.clear()

    failed_source(booted_page, request_vi(include=True), api.url + "echo-origin/echo")

    with_cookie = [request for request in api_app.requests if request.cookies]
    assert len(api_app.requests) >= 2
    assert len(with_cookie) == 1
