"""A cross-site topology on loopback for the credentials tests: HTTPS servers and Chromium.

Every server binds 127.0.0.1 and terminates TLS itself with a certificate from a trustme
CA. The `*.test` names reach 127.0.0.1 only through Chromium's host resolver rules,
which `site_browser` sets. The page is `https://app.site-a.test:P`, so
`https://api.site-a.test:Q` is cross-origin but same-site, and `https://api.site-b.test:R`
is cross-site.

The client-certificate case uses other names: Playwright's `client_certificates` option
sends the context's traffic through Playwright's own proxy, which resolves names itself
and ignores the host resolver rules. There the page is `https://127.0.0.1:P` and the API,
which requires a certificate signed by the CA, is `https://localhost:Q`: two different
sites.

Facts about Chromium 156 (Debian 12) that this module relies on, checked with these servers:
- An incognito context (`browser.new_context()`) always blocks third-party cookies, so
  `site_browser` launches a persistent context.
- A persistent profile allows third-party cookies when its `Default/Preferences` file,
  written before launch, sets `profile.cookie_controls_mode` to 0. With the value 1, or
  without the preference, it blocks them but keeps same-site cookies.
"""

from __future__ import annotations

import contextlib
import enum
import json
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import trustme
from playwright.sync_api import BrowserContext, Playwright
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.wrappers import Response

from support.apps import ApiApp
from support.servers import wsgi_server
from webvi.headless import launch_options

# An entry of Playwright's `client_certificates` option. Playwright's own TypedDict for it
# is private (playwright._impl).
ClientCertificate = dict[str, str | bytes]

LOOPBACK = "127.0.0.1"
PAGE_HOST = "app.site-a.test"
SAME_SITE_API_HOST = "api.site-a.test"
CROSS_SITE_API_HOST = "api.site-b.test"
# Names for the client-certificate case. Playwright's proxy resolves names without the
# host resolver rules, and these two reach loopback without them.
CERTIFICATE_PAGE_HOST = "127.0.0.1"
CERTIFICATE_API_HOST = "localhost"
SERVER_HOSTS = (PAGE_HOST, SAME_SITE_API_HOST, CROSS_SITE_API_HOST, CERTIFICATE_API_HOST, CERTIFICATE_PAGE_HOST)

HOST_RESOLVER_RULES = f"--host-resolver-rules=MAP *.test {LOOPBACK}"
# The prefix under which the page's own server mounts its ApiApp.
PAGE_API_PREFIX = "/api"


class CookieControlsMode(enum.IntEnum):
    """Values of Chromium's `profile.cookie_controls_mode` preference."""

    ALLOW_THIRD_PARTY = 0
    BLOCK_THIRD_PARTY = 1


@dataclass(frozen=True)
class SiteCertificates:
    """A trustme CA with a server certificate per host in SERVER_HOSTS and one client certificate."""

    ca: trustme.CA
    servers: dict[str, trustme.LeafCert]
    client: trustme.LeafCert

    def server_context(self, host: str, *, require_client_certificate: bool = False) -> ssl.SSLContext:
        """Return a server-side TLS context presenting host's certificate.

        With require_client_certificate, the handshake fails unless the client sends a
        certificate that the CA signed.
        """
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.servers[host].configure_cert(context)
        if require_client_certificate:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context

    def client_certificate(self, origin: str) -> ClientCertificate:
        """Return the client certificate as Playwright's `client_certificates` entry for origin."""
        return {
            "origin": origin,
            "cert": b"".join(pem.bytes() for pem in self.client.cert_chain_pems),
            "key": self.client.private_key_pem.bytes(),
        }


def make_certificates() -> SiteCertificates:
    """Create a new CA, its server certificates for SERVER_HOSTS and a client certificate."""
    ca = trustme.CA(organization_name="webvi tests")
    servers = {host: ca.issue_cert(host) for host in SERVER_HOSTS}
    client = ca.issue_cert("webvi-test-client@example.test", common_name="webvi test client")
    return SiteCertificates(ca=ca, servers=servers, client=client)


@dataclass(frozen=True)
class SiteServer:
    """An HTTPS server of the topology and the ApiApp it serves.

    url is the base URL with a trailing slash. An API server serves app at its root. The
    page server serves dist/ at url and app under url + "api/".
    """

    url: str
    app: ApiApp = field(compare=False)

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")


@dataclass(frozen=True)
class CrossSiteTopology:
    """The page on app.site-a.test, a same-site API on api.site-a.test and a cross-site API on api.site-b.test."""

    page: SiteServer
    same_site_api: SiteServer
    cross_site_api: SiteServer

    def clear_request_logs(self) -> None:
        for server in (self.page, self.same_site_api, self.cross_site_api):
            server.app.clear()


@dataclass(frozen=True)
class ClientCertificateTopology:
    """The page on https://127.0.0.1:P and an API on https://localhost:Q that requires a client certificate."""

    page: SiteServer
    api: SiteServer

    def clear_request_logs(self) -> None:
        for server in (self.page, self.api):
            server.app.clear()


def page_app(dist_dir: Path, api_app: ApiApp):
    """Return a WSGI app serving dist_dir, with api_app under PAGE_API_PREFIX on the same origin."""

    def not_found(environ, start_response):
        return Response("not found", status=404)(environ, start_response)

    files = SharedDataMiddleware(not_found, {"/": str(dist_dir)})
    app = DispatcherMiddleware(files, {PAGE_API_PREFIX: api_app})

    def with_index(environ, start_response):
        if environ["PATH_INFO"] == "/":
            environ["PATH_INFO"] = "/index.html"
        return app(environ, start_response)

    return with_index


@contextlib.contextmanager
def page_server(dist_dir: Path, certificates: SiteCertificates, host: str) -> Iterator[SiteServer]:
    """Serve the built site, with an ApiApp under /api/, over HTTPS as https://host:<free port>/."""
    api_app = ApiApp()
    context = certificates.server_context(host)
    with wsgi_server(page_app(dist_dir, api_app), host=LOOPBACK, url_host=host, ssl_context=context) as server:
        yield SiteServer(url=server.url, app=api_app)


@contextlib.contextmanager
def api_server(
    certificates: SiteCertificates, host: str, *, require_client_certificate: bool = False
) -> Iterator[SiteServer]:
    """Serve a new ApiApp over HTTPS as https://host:<free port>/."""
    api_app = ApiApp()
    context = certificates.server_context(host, require_client_certificate=require_client_certificate)
    with wsgi_server(api_app, host=LOOPBACK, url_host=host, ssl_context=context) as server:
        yield SiteServer(url=server.url, app=api_app)


@contextlib.contextmanager
def cross_site_topology(dist_dir: Path, certificates: SiteCertificates) -> Iterator[CrossSiteTopology]:
    """Start the page, the same-site API and the cross-site API until the block ends."""
    with (
        page_server(dist_dir, certificates, PAGE_HOST) as page,
        api_server(certificates, SAME_SITE_API_HOST) as same_site_api,
        api_server(certificates, CROSS_SITE_API_HOST) as cross_site_api,
    ):
        yield CrossSiteTopology(page=page, same_site_api=same_site_api, cross_site_api=cross_site_api)


@contextlib.contextmanager
def client_certificate_topology(
    dist_dir: Path, certificates: SiteCertificates
) -> Iterator[ClientCertificateTopology]:
    """Start the page on 127.0.0.1 and the certificate-requiring API on localhost until the block ends."""
    with (
        page_server(dist_dir, certificates, CERTIFICATE_PAGE_HOST) as page,
        api_server(certificates, CERTIFICATE_API_HOST, require_client_certificate=True) as api,
    ):
        yield ClientCertificateTopology(page=page, api=api)


def write_cookie_preferences(user_data_dir: Path, mode: CookieControlsMode) -> Path:
    """Write the profile's Default/Preferences with the given cookie controls mode; return its path.

    Chromium reads the file at launch, so call this before launching on user_data_dir.
    """
    preferences = user_data_dir / "Default" / "Preferences"
    preferences.parent.mkdir(parents=True, exist_ok=True)
    preferences.write_text(json.dumps({"profile": {"cookie_controls_mode": int(mode)}}))
    return preferences


@contextlib.contextmanager
def site_browser(
    playwright: Playwright,
    user_data_dir: Path,
    *,
    cookie_mode: CookieControlsMode = CookieControlsMode.ALLOW_THIRD_PARTY,
    client_certificates: Sequence[ClientCertificate] = (),
) -> Iterator[BrowserContext]:
    """Launch headless Chromium on a new persistent profile until the block ends.

    The profile maps `*.test` to 127.0.0.1, accepts the trustme certificates
    (ignore_https_errors) and uses cookie_mode. client_certificates makes Playwright
    present those certificates, and route all traffic through its proxy, which ignores
    the host resolver rules.
    """
    write_cookie_preferences(user_data_dir, cookie_mode)
    options = launch_options((HOST_RESOLVER_RULES,))
    if client_certificates:
        options["client_certificates"] = list(client_certificates)
    context = playwright.chromium.launch_persistent_context(str(user_data_dir), ignore_https_errors=True, **options)
    try:
        yield context
    finally:
        context.close()
