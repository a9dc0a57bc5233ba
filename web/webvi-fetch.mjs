// The browser side of webvi's HTTP transport: one call per request, so that Python awaits
// a single promise. It resolves with a plain object in every case (a response or a
// failure kind) instead of rejecting, and it never keeps a request's objects after it ends.

const controllers = new Map();

const TIMEOUT = "TimeoutError";
const PROBE_TIMEOUT_MS = 10_000;

function failure(kind, error, crossOrigin = undefined) {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error ?? "");
  return { ok: false, kind, message, crossOrigin };
}

// Parses "Name: value" lines joined by CRLF; names are HTTP tokens, so the first colon ends them.
function parseHeaders(text) {
  const headers = [];
  for (const line of text ? text.split("\r\n") : []) {
    const colon = line.indexOf(":");
    headers.push([line.slice(0, colon), line.slice(colon + 2)]);
  }
  return headers;
}

function formatHeaders(headers) {
  const lines = [];
  for (const [name, value] of headers) lines.push(`${name}: ${value}`);
  return lines.join("\r\n");
}

// Starting fetch() while Python's call into JavaScript is still on the stack made each
// request about 0.5 ms slower in Chromium 156 (measured on the benchmark machine), so
// requests start from a task of their own, queued through one MessageChannel.
const startQueue = [];
const startChannel = new MessageChannel();
startChannel.port1.onmessage = () => startQueue.shift()();

function nextTask() {
  return new Promise((resolve) => {
    startQueue.push(resolve);
    startChannel.port2.postMessage(0);
  });
}

// fetch() reports a URL that the page's Content-Security-Policy forbids like any network
// failure; only a securitypolicyviolation event distinguishes the two. The loader imports
// this module before any request, so the listener receives every violation.
const violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  violations.push({ uri: event.blockedURI, directive: event.effectiveDirective, time: performance.now() });
  if (violations.length > 100) violations.shift();
});

async function cspViolation(target, since) {
  await nextTask(); // the event is queued as a task of its own after fetch() rejects
  return violations.find((item) => item.time >= since && (item.uri === target.href || item.uri === target.origin));
}

// Aborts a request started by sendRequest; the VI stopped, so the request reports "aborted".
export function abortRequest(id) {
  controllers.get(id)?.abort(new DOMException("The VI stopped.", "AbortError"));
}

// timeoutMs < 0 waits forever. The timeout covers the whole request, body included.
export async function sendRequest(id, method, url, headerText, body, credentials, timeoutMs, readBody, cache) {
  let target;
  try {
    target = new URL(url, document.baseURI);
  } catch (error) {
    return failure("invalid_url", error);
  }
  const crossOrigin = target.origin !== location.origin;
  const controller = new AbortController();
  controllers.set(id, controller);
  await nextTask();
  const started = performance.now();
  const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new DOMException("Timed out.", TIMEOUT)), timeoutMs) : null;
  try {
    let request;
    try {
      request = new Request(target, {
        method,
        headers: parseHeaders(headerText),
        body: body ?? undefined,
        credentials,
        cache,
        redirect: "follow",
        signal: controller.signal,
      });
    } catch (error) {
      return failure(/header/i.test(error.message) ? "invalid_header" : "invalid_url", error, crossOrigin);
    }
    const response = await fetch(request);
    const data = readBody ? new Uint8Array(await response.arrayBuffer()) : undefined;
    return {
      ok: true,
      status: response.status,
      statusText: response.statusText,
      headers: formatHeaders(response.headers),
      body: data,
      url: response.url,
      redirected: response.redirected,
    };
  } catch (error) {
    if (controller.signal.aborted) {
      const kind = controller.signal.reason?.name === TIMEOUT ? "timeout" : "aborted";
      return failure(kind, controller.signal.reason, crossOrigin);
    }
    const violation = await cspViolation(target, started);
    if (violation) {
      return failure("blocked_by_page", `the ${violation.directive} directive blocks ${violation.uri}`, crossOrigin);
    }
    return failure("network", error, crossOrigin);
  } finally {
    clearTimeout(timer);
    controllers.delete(id);
  }
}

// Probes why a credentialed request failed, with requests that carry no credentials:
// the same request without credentials, then (when it has headers) a plain one, then one
// in "no-cors" mode, which succeeds for any response the server sends. Only GET and HEAD
// are probed, because they are safe to repeat.
export async function diagnose(method, url, headerText, timeoutMs) {
  const target = new URL(url, document.baseURI);
  const limit = timeoutMs > 0 ? Math.min(timeoutMs, PROBE_TIMEOUT_MS) : PROBE_TIMEOUT_MS;
  const headers = parseHeaders(headerText);
  const answers = async (init) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), limit);
    try {
      const response = await fetch(target, { ...init, method, cache: "no-store", signal: controller.signal });
      await response.arrayBuffer();
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  };
  let diagnosis = "unreachable";
  if (await answers({ mode: "cors", credentials: "omit", headers })) diagnosis = "credentials_not_allowed";
  else if (headers.length > 0 && (await answers({ mode: "cors", credentials: "omit" }))) diagnosis = "headers_not_allowed";
  else if (await answers({ mode: "no-cors", credentials: "omit" })) diagnosis = "origin_not_allowed";
  return { diagnosis, pageOrigin: location.origin };
}

// Returns the number of requests in flight; tests check that none is left behind.
export function pendingRequests() {
  return controllers.size;
}
