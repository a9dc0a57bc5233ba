"""Credentials across real sites: cookies, headers, Basic auth and client certificates.

The page runs on https://app.site-a.test and calls https://api.site-b.test (another site)
and https://api.site-a.test (the same site) through VIs run in the page's Pyodide.
tests/support/sites.py describes the servers and the Chromium profiles. Each test gets a
new Chromium profile, so no cookie leaks from one test into the next.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from playwright.sync_api import BrowserContext, Page, Playwright

from support.apps import ApiApp, RecordedRequest
from support.browser import boot_page, run_vi
from support.sites import (
    ClientCertificateTopology,
    CookieControlsMode,
    CrossSiteTopology,
    SiteCertificates,
    client_certificate_topology,
    cross_site_topology,
    make_certificates,
    site_browser,
)
from support.servers import free_port
from support.vis import no_error, request_vi
from webvi.diagram import VIBuilder

NETWORK_ERROR = 363650
INVALID_ARGUMENT = 1


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates() -> SiteCertificates:
    return make_certificates()


@pytest.fixture(scope="module")
def cross_site_servers(dist_dir: Path, certificates: SiteCertificates) -> Iterator[CrossSiteTopology]:
    with cross_site_topology(dist_dir, certificates) as topology:
        yield topology


@pytest.fixture
def sites(cross_site_servers: CrossSiteTopology) -> CrossSiteTopology:
    """The page, same-site API and cross-site API servers, with empty request logs."""
    cross_site_servers.clear_request_logs()
    return cross_site_servers


@pytest.fixture(scope="module")
def certificate_servers(dist_dir: Path, certificates: SiteCertificates) -> Iterator[ClientCertificateTopology]:
    with client_certificate_topology(dist_dir, certificates) as topology:
        yield topology


@pytest.fixture
def certificate_sites(certificate_servers: ClientCertificateTopology) -> ClientCertificateTopology:
    """The page on 127.0.0.1 and the API on localhost that requires a client certificate, with empty logs."""
    certificate_servers.clear_request_logs()
    return certificate_servers


@pytest.fixture
def site_context(playwright: Playwright, tmp_path: Path) -> Iterator[BrowserContext]:
    """Chromium on a new profile that allows third-party cookies."""
    with site_browser(playwright, tmp_path / "profile") as context:
        yield context


@pytest.fixture
def site_page(site_context: BrowserContext, sites: CrossSiteTopology) -> Page:
    """The booted page on https://app.site-a.test in a profile that allows third-party cookies."""
    page = first_page(site_context)
    boot_page(page, sites.page.url)
    return page


def first_page(context: BrowserContext) -> Page:
    """Return the tab that a persistent context opens at launch, or a new one."""
    return context.pages[0] if context.pages else context.new_page()


# --- helpers ------------------------------------------------------------------------------


def body_json(result: dict) -> dict:
    return json.loads(result["indicators"]["body"])


def set_cookie_url(api_url: str, name: str, value: str, samesite: str) -> str:
    """Return the URL of the credentialed set-cookie endpoint for a Secure cookie."""
    query = urlencode({"name": name, "value": value, "samesite": samesite, "secure": "1"})
    return api_url + "credentialed/set-cookie?" + query


def stored_cookie_names(context: BrowserContext, origin: str) -> set[str]:
    """Return the names of the cookies that the browser would send to origin."""
    return {cookie["name"] for cookie in context.cookies(origin)}


def requests_to(app: ApiApp, path: str) -> list[RecordedRequest]:
    """Return the requests (not preflights) that app received for path, oldest first."""
    return [request for request in app.requests if request.path == path and not request.preflight]


def close_handle_vi() -> str:
    """Return a VI that sends a header and stores a cookie, closes its handle, then uses the closed refnum.

    Open Handle -> Configure CORS (True) -> Add Header X-Station -> GET `url` -> Close
    Handle -> GET `after_close_url` on the closed refnum, run after Close Handle because
    it waits for Close Handle's error out. Indicators: `status`, `request_error`,
    `close_error` and `after_close_error`.
    """
    vi = VIBuilder("Close Handle Then Reuse")
    url = vi.control("URL", "String", id="url")
    after_close_url = vi.control("URL after close", "String", id="after_close_url")

    opened = vi.node("http.OpenHandle")
    cors = vi.node("http.ConfigureCORS", handle=opened.handle_out, include_credentials=True,
                   error_in=opened.error_out)
    header = vi.node("http.AddHeader", handle=cors.handle_out, header="X-Station", value="bench 7",
                     error_in=cors.error_out)
    request = vi.node("http.GET", handle=header.handle_out, url=url, error_in=header.error_out)
    close = vi.node("http.CloseHandle", handle=request.handle_out, error_in=request.error_out)
    after_close = vi.node("http.GET", handle=request.handle_out, url=after_close_url, error_in=close.error_out)

    vi.indicator("status code", request.status_code, id="status")
    vi.indicator("request error", request.error_out, id="request_error")
    vi.indicator("close error", close.error_out, id="close_error")
    vi.indicator("error after close", after_close.error_out, id="after_close_error")
    return vi.dumps()


# --- 1. same-origin requests ----------------------------------------------------------------


@pytest.mark.parametrize("include", [None, False, True])
def test_same_origin_sends_cookies(site_page: Page, sites: CrossSiteTopology, include: bool | None) -> None:
    """A same-origin request carries the page's cookies whatever Configure CORS sets."""
    site_page.evaluate("document.cookie = 'panel=front; path=/; Secure; SameSite=Strict'")

    result = run_vi(site_page, request_vi(include=include), {"url": "api/credentialed/cookies"})

    assert no_error(result["indicators"]["error"])
    assert body_json(result) == {"panel": "front"}
    assert [request.cookies for request in requests_to(sites.page.app, "/credentialed/cookies")] == [
        {"panel": "front"}
    ]


# --- 2. cross-site cookies ------------------------------------------------------------------


def test_cross_site_none_cookie_round_trip(
    site_page: Page, site_context: BrowserContext, sites: CrossSiteTopology
) -> None:
    """A SameSite=None; Secure cookie from another site is stored and sent with credentials."""
    api = sites.cross_site_api
    stored = run_vi(site_page, request_vi(include=True), {"url": set_cookie_url(api.url, "session", "s1", "None")})
    sent = run_vi(site_page, request_vi(include=True), {"url": api.url + "credentialed/cookies"})

    assert no_error(stored["indicators"]["error"])
    assert stored_cookie_names(site_context, api.origin) == {"session"}
    assert no_error(sent["indicators"]["error"])
    assert body_json(sent) == {"session": "s1"}
    assert [request.cookies for request in requests_to(api.app, "/credentialed/cookies")] == [{"session": "s1"}]


def test_cross_site_lax_cookie_not_sent(
    site_page: Page, site_context: BrowserContext, sites: CrossSiteTopology
) -> None:
    """A SameSite=Lax cookie set by another site's fetch response is neither stored nor sent."""
    api = sites.cross_site_api
    stored = run_vi(site_page, request_vi(include=True), {"url": set_cookie_url(api.url, "lax", "l1", "Lax")})
    sent = run_vi(site_page, request_vi(include=True), {"url": api.url + "credentialed/cookies"})

    assert no_error(stored["indicators"]["error"])
    assert stored["indicators"]["status"] == 200
    assert stored_cookie_names(site_context, api.origin) == set()
    assert no_error(sent["indicators"]["error"])
    assert body_json(sent) == {}


def test_cross_site_without_credentials_no_cookies(
    site_page: Page, site_context: BrowserContext, sites: CrossSiteTopology
) -> None:
    """With include credentials False, no cookie is sent and a SameSite=None cookie is not stored."""
    api = sites.cross_site_api
    kept = run_vi(site_page, request_vi(include=True), {"url": set_cookie_url(api.url, "kept", "k1", "None")})
    anonymous = run_vi(site_page, request_vi(include=False), {"url": api.url + "credentialed/cookies"})
    dropped = run_vi(site_page, request_vi(include=False), {"url": set_cookie_url(api.url, "dropped", "d1", "None")})
    credentialed = run_vi(site_page, request_vi(include=True), {"url": api.url + "credentialed/cookies"})

    assert no_error(kept["indicators"]["error"])
    assert no_error(anonymous["indicators"]["error"])
    assert body_json(anonymous) == {}
    assert no_error(dropped["indicators"]["error"])
    assert dropped["indicators"]["status"] == 200
    assert stored_cookie_names(site_context, api.origin) == {"kept"}
    assert body_json(credentialed) == {"kept": "k1"}
    cookie_log = [request.cookies for request in requests_to(api.app, "/credentialed/cookies")]
    assert cookie_log == [{}, {"kept": "k1"}]


# --- 3. Close Handle ------------------------------------------------------------------------


def test_close_handle_keeps_browser_cookies(site_page: Page, sites: CrossSiteTopology) -> None:
    """Close Handle drops the handle's header, the cookie stays, and the closed refnum gives error 1."""
    api = sites.cross_site_api
    first = run_vi(
        site_page,
        close_handle_vi(),
        {"url": set_cookie_url(api.url, "station", "bench7", "None"), "after_close_url": api.url + "credentialed/echo"},
    )
    first_run_requests = requests_to(api.app, "/credentialed/set-cookie")
    echo_requests_after_close = requests_to(api.app, "/credentialed/echo")
    second = run_vi(site_page, request_vi(include=True), {"url": api.url + "credentialed/echo"})

    indicators = first["indicators"]
    assert no_error(indicators["request_error"])
    assert indicators["status"] == 200
    assert no_error(indicators["close_error"])
    assert [request.headers.get("x-station") for request in first_run_requests] == ["bench 7"]
    after_close_error = indicators["after_close_error"]
    assert after_close_error["status"] is True
    assert after_close_error["code"] == INVALID_ARGUMENT
    assert "is not open" in after_close_error["source"]
    assert echo_requests_after_close == []

    assert no_error(second["indicators"]["error"])
    echoed = body_json(second)
    assert echoed["cookies"] == {"station": "bench7"}
    assert "x-station" not in echoed["headers"]


# --- 4. Access-Control-Allow-Origin: * -----------------------------------------------------


def test_wildcard_origin_rejects_credentials(site_page: Page, sites: CrossSiteTopology) -> None:
    """An Access-Control-Allow-Origin: * response fails a credentialed request with 363650."""
    url = sites.cross_site_api.url + "wildcard/echo"
    credentialed = run_vi(site_page, request_vi(include=True), {"url": url})
    anonymous = run_vi(site_page, request_vi(include=False), {"url": url})

    error = credentialed["indicators"]["error"]
    assert error["status"] is True
    assert error["code"] == NETWORK_ERROR
    assert "set include credentials during CORS to False" in error["source"]
    assert "allows this page's origin (https://app.site-a.test:" in error["source"]
    assert credentialed["indicators"]["status"] == 0
    assert no_error(anonymous["indicators"]["error"])
    assert anonymous["indicators"]["status"] == 200
    assert body_json(anonymous)["path"] == "/wildcard/echo"


# --- 5. Authorization through a preflight ---------------------------------------------------


def test_authorization_header_preflighted(site_page: Page, sites: CrossSiteTopology) -> None:
    """An Authorization header from Add Header goes through a preflight to a server that allows it."""
    api = sites.cross_site_api
    vi = request_vi(include=True, headers=(("Authorization", "Bearer station-token"),))
    result = run_vi(site_page, vi, {"url": api.url + "credentialed/echo"})

    assert no_error(result["indicators"]["error"])
    assert body_json(result)["headers"]["authorization"] == "Bearer station-token"
    log = [request for request in api.app.requests if request.path == "/credentialed/echo"]
    assert [(request.method, request.preflight) for request in log] == [("OPTIONS", True), ("GET", False)]
    requested_headers = log[0].headers.get("access-control-request-headers", "").split(",")
    assert "authorization" in [name.strip().lower() for name in requested_headers]
    assert log[1].headers["authorization"] == "Bearer station-token"


def test_authorization_header_rejected(site_page: Page, sites: CrossSiteTopology) -> None:
    """A preflight response that leaves out Authorization fails the request with 363650."""
    api = sites.cross_site_api
    vi = request_vi(include=True, headers=(("Authorization", "Bearer station-token"),))
    result = run_vi(site_page, vi, {"url": api.url + "no-authorization/echo"})

    error = result["indicators"]["error"]
    assert error["code"] == NETWORK_ERROR
    assert "does not allow the request's headers (Authorization)" in error["source"]
    log = [request for request in api.app.requests if request.path == "/no-authorization/echo"]
    assert any(request.preflight for request in log)
    # After the failure, webvi's diagnosis probes may send GETs, but never with the header.
    assert not any("authorization" in request.headers for request in log if not request.preflight)


# --- 6. Basic authentication -----------------------------------------------------------------


@pytest.mark.parametrize("password", ["s3cret", "pässwörd-€"], ids=["ascii", "non-ascii"])
def test_basic_auth_cross_site(site_page: Page, sites: CrossSiteTopology, password: str) -> None:
    """Username and password of Open Handle reach a cross-site Basic-auth endpoint."""
    api = sites.cross_site_api
    vi = request_vi(include=True, open_inputs={"username": "bench", "password": password})
    path = "/credentialed/basic-auth/bench/" + quote(password)
    result = run_vi(site_page, vi, {"url": api.origin + path})

    assert no_error(result["indicators"]["error"])
    assert result["indicators"]["status"] == 200
    assert body_json(result) == {"authenticated": True, "user": "bench"}
    token = base64.b64encode(f"bench:{password}".encode()).decode("ascii")
    sent = [request.headers.get("authorization") for request in api.app.requests if not request.preflight]
    assert sent == [f"Basic {token}"]


# --- 7. TLS client certificates ---------------------------------------------------------------


def test_client_certificate_accepted(
    playwright: Playwright, tmp_path: Path, certificates: SiteCertificates, certificate_sites: ClientCertificateTopology
) -> None:
    """A server that requires a client certificate responds when the browser has one."""
    api = certificate_sites.api
    client_certificates = [certificates.client_certificate(api.origin)]
    with site_browser(playwright, tmp_path / "profile", client_certificates=client_certificates) as context:
        page = first_page(context)
        boot_page(page, certificate_sites.page.url)
        result = run_vi(page, request_vi(include=True), {"url": api.url + "credentialed/echo"})

    assert no_error(result["indicators"]["error"])
    assert result["indicators"]["status"] == 200
    assert body_json(result)["headers"]["origin"] == certificate_sites.page.origin
    assert len(requests_to(api.app, "/credentialed/echo")) == 1


def test_missing_client_certificate_fails(
    playwright: Playwright, tmp_path: Path, certificate_sites: ClientCertificateTopology
) -> None:
    """Without a client certificate the TLS handshake fails and the request reports 363650."""
    api = certificate_sites.api
    with site_browser(playwright, tmp_path / "profile") as context:
        page = first_page(context)
        boot_page(page, certificate_sites.page.url)
        result = run_vi(page, request_vi(include=True), {"url": api.url + "credentialed/echo"})

    error = result["indicators"]["error"]
    assert error["code"] == NETWORK_ERROR
    assert "client certificate the server may require" in error["source"]
    assert api.app.requests == []


# --- third-party cookies blocked by the profile ---------------------------------------------


def test_blocked_third_party_cookies(playwright: Playwright, tmp_path: Path, sites: CrossSiteTopology) -> None:
    """A profile that blocks third-party cookies drops the cross-site SameSite=None cookie."""
    cross_site, same_site = sites.cross_site_api, sites.same_site_api
    with site_browser(playwright, tmp_path / "profile", cookie_mode=CookieControlsMode.BLOCK_THIRD_PARTY) as context:
        page = first_page(context)
        boot_page(page, sites.page.url)
        for api in (cross_site, same_site):
            stored = run_vi(page, request_vi(include=True), {"url": set_cookie_url(api.url, "blocked", "b1", "None")})
            assert no_error(stored["indicators"]["error"])
        cross_site_cookies = run_vi(page, request_vi(include=True), {"url": cross_site.url + "credentialed/cookies"})
        same_site_cookies = run_vi(page, request_vi(include=True), {"url": same_site.url + "credentialed/cookies"})
        cross_site_stored = stored_cookie_names(context, cross_site.origin)
        same_site_stored = stored_cookie_names(context, same_site.origin)

    assert cross_site_stored == set()
    assert body_json(cross_site_cookies) == {}
    # The same-site API is first-party to the page, so the block does not apply to it.
    assert same_site_stored == {"blocked"}
    assert body_json(same_site_cookies) == {"blocked": "b1"}


# --- diagnosis of failed credentialed requests, across sites -------------------------------


def failed_diagnosis(page: Page, vi: str, url: str) -> str:
    """Run vi against url, check it failed with 363650 and return the error's source."""
    error = run_vi(page, vi, {"url": url})["indicators"]["error"]
    assert error["code"] == NETWORK_ERROR, error
    return error["source"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("none", "does not allow this page's origin (https://app.site-a.test:"),
        ("wildcard", "without credentials but not with them"),
        ("echo-origin", "without credentials but not with them"),
    ],
)
def test_cross_site_diagnosis_by_policy(site_page: Page, sites: CrossSiteTopology, policy: str, expected: str) -> None:
    """Each CORS policy of api.site-b.test gets its own diagnosis in error out."""
    source = failed_diagnosis(site_page, request_vi(include=True), sites.cross_site_api.url + f"{policy}/echo")

    assert expected in source


def test_cross_site_diagnosis_refused_header(site_page: Page, sites: CrossSiteTopology) -> None:
    vi = request_vi(include=True, headers=(("Authorization", "Bearer s3cret"),))

    source = failed_diagnosis(site_page, vi, sites.cross_site_api.url + "no-authorization/echo")

    assert "does not allow the request's headers (Authorization)" in source
    assert "s3cret" not in source


def test_cross_site_diagnosis_unreachable(site_page: Page, sites: CrossSiteTopology) -> None:
    """A port where nothing listens on api.site-b.test is diagnosed as unreachable."""
    source = failed_diagnosis(site_page, request_vi(include=True), f"https://api.site-b.test:{free_port()}/echo")

    assert "Diagnosis: the server could not be reached" in source


def test_missing_certificate_diagnosed_unreachable(
    playwright: Playwright, tmp_path: Path, certificate_sites: ClientCertificateTopology
) -> None:
    """Without the client certificate the TLS handshake fails, which the diagnosis names."""
    with site_browser(playwright, tmp_path / "profile") as context:
        page = first_page(context)
        boot_page(page, certificate_sites.page.url)
        source = failed_diagnosis(page, request_vi(include=True), certificate_sites.api.url + "credentialed/echo")

    assert "could not be reached" in source
    assert "client certificate" in source
