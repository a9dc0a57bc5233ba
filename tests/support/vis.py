"""VI files that the browser tests run: built with webvi's own builder on the host."""

from __future__ import annotations

from typing import Any

from webvi.diagram import VIBuilder


def request_vi(
    method: str = "GET",
    *,
    handle: bool = True,
    include: bool | None = None,
    diagnose: bool | None = None,
    headers: tuple[tuple[str, str], ...] = (),
    open_inputs: dict[str, Any] | None = None,
    **request_inputs: Any,
) -> str:
    """Return a VI: [Open Handle -> Configure CORS -> Add Header...] -> METHOD -> Close Handle.

    Controls: `url` (String) and `timeout_ms` (I32, default 10000). Indicators: `status`,
    `headers`, `body` and `body_bytes` (not for HEAD), `request_error` (the method node's
    error out) and `error` (Close Handle's error out, or the method's without a handle).
    """
    vi = VIBuilder(f"{method} Test")
    url = vi.control("URL", "String", id="url")
    timeout = vi.control("timeout in ms", "I32", default=10_000, id="timeout_ms")
    upstream: dict[str, Any] = {}
    if handle:
        node = vi.node("http.OpenHandle", **(open_inputs or {}))
        if include is not None:
            cors_inputs = {} if diagnose is None else {"diagnose_failures": diagnose}
            node = vi.node("http.ConfigureCORS", handle=node.handle_out, include_credentials=include,
                           error_in=node.error_out, **cors_inputs)
        for name, value in headers:
            node = vi.node("http.AddHeader", handle=node.handle_out, header=name, value=value,
                           error_in=node.error_out)
        upstream = {"handle": node.handle_out, "error_in": node.error_out}
    request = vi.node(f"http.{method}", url=url, timeout_ms=timeout, **upstream, **request_inputs)
    vi.indicator("status code", request.status_code, id="status")
    vi.indicator("headers", request.headers, id="headers")
    if method != "HEAD":
        vi.indicator("body", request.body, id="body")
        vi.indicator("body bytes", request.body_bytes, id="body_bytes")
    vi.indicator("request error", request.error_out, id="request_error")
    if handle:
        close = vi.node("http.CloseHandle", handle=request.handle_out, error_in=request.error_out)
        vi.indicator("error out", close.error_out, id="error")
    else:
        vi.indicator("error out", request.error_out, id="error")
    return vi.dumps()


def parallel_get_vi(count: int, *, same_handle: bool = True) -> str:
    """Return a VI whose `count` GET nodes share one handle and run in parallel.

    Controls: `url_1` ... `url_N`. Indicators: `status_1` ... and the merged `error`.
    """
    vi = VIBuilder("Parallel GETs")
    opened = vi.node("http.OpenHandle")
    gets = []
    for index in range(1, count + 1):
        url = vi.control(f"URL {index}", "String", id=f"url_{index}")
        inputs = {"handle": opened.handle_out, "error_in": opened.error_out} if same_handle else {}
        get = vi.node("http.GET", url=url, **inputs)
        vi.indicator(f"status {index}", get.status_code, id=f"status_{index}")
        gets.append(get)
    merged = vi.node("error.MergeErrors", error_in=[get.error_out for get in gets])
    close = vi.node("http.CloseHandle", handle=opened.handle_out, error_in=merged.error_out)
    vi.indicator("error out", close.error_out, id="error")
    return vi.dumps()


def no_error(error: dict[str, Any]) -> bool:
    return error == {"status": False, "code": 0, "source": ""}
