// The browser side of webvi's HTTP transport: one call per request, which reports back
// once in every case (a response or a failure kind) instead of throwing, and never keeps
// a request's objects after it ends.

const controllers = new Map();

const TIMEOUT = "TimeoutError";
const PROBE_TIMEOUT_MS = 10_000;

function failure(kind, error, crossOrigin = undefined) {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error ?? "");
  return [false, kind, message, crossOrigin];
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

// Resolves in a task of its own, queued through one MessageChannel.
const taskQueue = [];
const taskChannel = new MessageChannel();
taskChannel.port1.onmessage = () => taskQueue.shift()();

function nextTask() {
  return new Promise((resolve) => {
    taskQueue.push(resolve);
    taskChannel.port2.postMessage(0);
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

// Aborts a request started by startRequest; the VI stopped, so the request reports "aborted".
export function abortRequest(id) {
  controllers.get(id)?.abort(new DOMException("The VI stopped.", "AbortError"));
  controllers.delete(id);
}

// The Python functions that receive every request's outcome and large bodies, set once
// by the transport with setHandlers.
const notConnected = () => {
  throw new Error("webvi-fetch: startRequest was called before setHandlers");
};
let reportOutcome = notConnected;
let startBody = notConnected;
let receiveChunk = notConnected;

export function setHandlers(outcome, bodyStart, bodyChunk) {
  reportOutcome = outcome;
  startBody = bodyStart;
  receiveChunk = bodyChunk;
}

// Bodies from this size on go to Python chunk by chunk as they arrive, straight into the
// bytes object that becomes the output (see webvi/browser/body.py). Smaller ones arrive
// whole, which costs fewer calls into Python.
const STREAM_MIN_BYTES = 1 << 20;

// Returns the body as a Uint8Array, or undefined when Python received it chunk by chunk.
async function readBody(id, response) {
  const length = Number(response.headers.get("content-length") ?? "");
  if (response.body && length >= STREAM_MIN_BYTES && startBody(id, length)) {
    const reader = response.body.getReader();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      if (!receiveChunk(id, chunk.value)) {
        await reader.cancel();
        throw new RangeError("the response body does not fit in the page's memory");
      }
    }
    return undefined;
  }
  return new Uint8Array(await response.arrayBuffer());
}

// Starts a request and reports its outcome once, as reportOutcome(id, true, status,
// statusText, headers, body, url, redirected) or reportOutcome(id, false, kind, message,
// crossOrigin). Python's await of a promise resumes through one more browser task (see
// webvi/engine/completion.py), so Python is called back instead. The fields come as
// arguments because reading each one through a proxy costs more.
export function startRequest(id, method, url, headerText, body, credentials, timeoutMs, wantBody, cache) {
  sendRequest(id, method, url, headerText, body, credentials, timeoutMs, wantBody, cache).then(
    (outcome) => reportOutcome(id, ...outcome),
    (error) => reportOutcome(id, ...failure("network", error)),
  );
}

// timeoutMs < 0 waits forever. The timeout covers the whole request, body included.
async function sendRequest(id, method, url, headerText, body, credentials, timeoutMs, wantBody, cache) {
  const controller = new AbortController();
  controllers.set(id, controller);
  // fetch() called while Python's call into JavaScript is still on the stack took 0.1 to
  // 0.3 ms longer per request in Chromium 156 on the benchmark machine. A microtask
  // starts it as soon as that stack has unwound, without waiting for a task.
  await Promise.resolve();
  const started = performance.now();
  const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(new DOMException("Timed out.", TIMEOUT)), timeoutMs) : null;
  let request;
  try {
    // The Request resolves a relative URL against the page, as fetch() does.
    request = new Request(url, {
      method,
      headers: parseHeaders(headerText),
      body: body ?? undefined,
      credentials,
      cache,
      redirect: "follow",
      signal: controller.signal,
    });
  } catch (error) {
    clearTimeout(timer);
    controllers.delete(id);
    if (!URL.canParse(url, document.baseURI)) return failure("invalid_url", error);
    const kind = /header/i.test(error.message) ? "invalid_header" : "invalid_url";
    return failure(kind, error, isCrossOrigin(new URL(url, document.baseURI)));
  }
  let response;
  try {
    response = await fetch(request);
    const data = wantBody ? await readBody(id, response) : undefined;
    const headers = formatHeaders(response.headers);
    return [true, response.status, response.statusText, headers, data, response.url, response.redirected];
  } catch (error) {
    const target = new URL(request.url);
    if (controller.signal.aborted) {
      const kind = controller.signal.reason?.name === TIMEOUT ? "timeout" : "aborted";
      return failure(kind, controller.signal.reason, isCrossOrigin(target));
    }
    if (error instanceof RangeError) {
      // An ArrayBuffer that cannot be allocated, or a streamed body Python has no room for.
      return failure("out_of_memory", error, isCrossOrigin(target));
    }
    if (response) {
      // CORS let the response through, so the connection broke while the body arrived.
      return failure("body_interrupted", error, isCrossOrigin(target));
    }
    const violation = await cspViolation(target, started);
    if (violation) {
      const message = `the ${violation.directive} directive blocks ${violation.uri}`;
      return failure("blocked_by_page", message, isCrossOrigin(target));
    }
    return failure("network", error, isCrossOrigin(target));
  } finally {
    clearTimeout(timer);
    controllers.delete(id);
  }
}

function isCrossOrigin(target) {
  return target.origin !== location.origin;
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
