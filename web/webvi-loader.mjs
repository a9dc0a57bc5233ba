// Boots the webvi runtime in a page: starts Pyodide from this site, installs the webvi
// wheel and imports webvi. It is an external module script, so
// that pages work under `Content-Security-Policy: default-src 'self'; script-src 'self'
// 'wasm-unsafe-eval'`.
//
// While it works it updates the page's boot section (elements marked data-webvi-progress,
// data-webvi-status and data-webvi-error), and it sets data-webvi-state on <html> to
// "loading", "ready" or "failed" so that tests and host pages can wait on the DOM.
// window.webvi.ready resolves to {pyodide, version, bootMs} or rejects with the error
// shown on the page. Every element with a data-webvi attribute (the URL of a VI file)
// becomes a front panel; window.webvi.panel(elementOrId) resolves to its Panel
// (webvi-panel.mjs). docs/embedding.md describes the API.

const SITE_URL = new URL("./", import.meta.url);
const MANIFEST_URL = new URL("webvi-site.json", SITE_URL);
const PYODIDE_URL = new URL("pyodide/", SITE_URL);

// Each step names what is loading; `until` is the progress bar value when it is done.
const STEPS = {
  support: { until: 1, text: "Checking WebAssembly support" },
  manifest: { until: 5, text: "Reading the site manifest" },
  pyodide: { until: 70, text: "Starting Pyodide (WebAssembly runtime and Python standard library)" },
  webvi: { until: 90, text: "Installing webvi" },
  runtime: { until: 100, text: "Starting the webvi runtime" },
};

const HINTS = {
  support: "Use a current Chrome, Edge, Firefox or Safari, and check that WebAssembly is not turned off by a browser policy.",
  manifest: "Check that the site was built with `python build.py` and that the page is served from it.",
  pyodide:
    "Check that dist/pyodide/ holds every core file (run `python build.py` again) and that the " +
    "server sends .wasm files as application/wasm and .mjs files as text/javascript.",
  webvi: "Check that dist/wheels/ holds the webvi wheel named in webvi-site.json (run `python build.py` again).",
  runtime: "This is a bug in webvi; the browser console has the Python traceback.",
};

class BootError extends Error {
  constructor(step, cause) {
    super(`Could not complete "${STEPS[step].text}": ${summarize(cause)}\n${HINTS[step]}`, { cause });
    this.name = "BootError";
    this.step = step;
  }
}

// Returns a short text for any thrown value. A Python traceback ends with the exception,
// so long texts keep their last lines.
function summarize(cause) {
  let text;
  if (cause instanceof Error || typeof cause?.message === "string") {
    text = cause.message;
  } else if (cause !== null && typeof cause === "object") {
    text = JSON.stringify(cause);
  } else {
    text = String(cause);
  }
  const lines = text.trim().split("\n");
  return lines.length <= 6 ? lines.join("\n") : ["…", ...lines.slice(-4)].join("\n");
}

function bootElements() {
  return {
    progress: document.querySelectorAll("[data-webvi-progress]"),
    status: document.querySelectorAll("[data-webvi-status]"),
    error: document.querySelectorAll("[data-webvi-error]"),
  };
}

function showStep(step, done) {
  const { progress, status } = bootElements();
  const value = done ? STEPS[step].until : previousUntil(step);
  for (const bar of progress) bar.value = value;
  for (const line of status) line.textContent = done ? "" : `${STEPS[step].text}…`;
}

function previousUntil(step) {
  const names = Object.keys(STEPS);
  const index = names.indexOf(step);
  return index === 0 ? 0 : STEPS[names[index - 1]].until;
}

function showFailure(error) {
  const { status, error: alerts } = bootElements();
  for (const line of status) line.textContent = "The webvi runtime could not start.";
  for (const alert of alerts) {
    alert.textContent = error.message; // textContent: never interpreted as HTML
    alert.hidden = false;
  }
  document.documentElement.dataset.webviState = "failed";
  for (const container of panelContainers()) container.dataset.webviPanelState = "failed";
}

function showReady(version) {
  const { progress, status } = bootElements();
  for (const bar of progress) bar.value = 100;
  for (const line of status) line.textContent = `webvi ${version} is ready.`;
  document.documentElement.dataset.webviState = "ready";
  document.documentElement.dataset.webviVersion = version;
}

async function step(name, work) {
  showStep(name, false);
  try {
    const result = await work();
    performance.mark(`webvi:${name}`);
    showStep(name, true);
    return result;
  } catch (cause) {
    throw new BootError(name, cause);
  }
}

async function fetchManifest() {
  const response = await fetch(MANIFEST_URL, { cache: "no-cache" });
  if (!response.ok) throw new Error(`${MANIFEST_URL} returned HTTP ${response.status}`);
  const manifest = await response.json();
  for (const field of ["webvi", "webvi_wheel", "pyodide"]) {
    if (typeof manifest[field] !== "string" || manifest[field] === "") {
      throw new Error(`${MANIFEST_URL} has no "${field}" field`);
    }
  }
  return manifest;
}

// Pyodide 314 does not reject loadPyodide() when its WebAssembly module fails to
// download or compile: it logs the error with console.warn and never settles. The loader
// therefore watches the core files' responses and that warning.
const CORE_FILES = ["pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"];
const WASM_FAILURE_WARNING = "wasm instantiation failed!";
// Requests of their own would slow every boot (measured: about 130 ms on loopback), so
// the loader only sends them when resource timing cannot report a failed download.
const HEAD_CHECK_DELAY_MS = 4000;

async function startPyodide() {
  const wasmFailure = watchWasmFailure();
  const coreFiles = watchCoreFiles();
  try {
    return await Promise.race([loadPyodideFromSite(), coreFiles.promise, wasmFailure.promise]);
  } finally {
    wasmFailure.stop();
    coreFiles.stop();
  }
}

async function loadPyodideFromSite() {
  const { loadPyodide } = await import(new URL("pyodide.mjs", PYODIDE_URL).href);
  return loadPyodide({ indexURL: PYODIDE_URL.href, checkAPIVersion: true });
}

// Rejects when a core file fails to download: at once where the browser's resource timing
// reports response status codes, else after HEAD_CHECK_DELAY_MS by requesting each file.
function watchCoreFiles() {
  const urls = new Map(CORE_FILES.map((name) => [new URL(name, PYODIDE_URL).href, name]));
  let reject;
  const promise = new Promise((_, rejectPromise) => {
    reject = rejectPromise;
  });
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (urls.has(entry.name) && entry.responseStatus >= 400) {
        reject(new Error(`${entry.name} could not be loaded (HTTP ${entry.responseStatus}).`));
      }
    }
  });
  observer.observe({ type: "resource", buffered: true });
  const timer = setTimeout(() => checkCoreFiles(urls.keys()).catch(reject), HEAD_CHECK_DELAY_MS);
  return {
    promise,
    stop: () => {
      observer.disconnect();
      clearTimeout(timer);
    },
  };
}

async function checkCoreFiles(urls) {
  const checks = [...urls].map(async (url) => {
    const response = await fetch(url, { method: "HEAD", cache: "no-store" });
    if (response.status === 404 || response.status === 410) {
      throw new Error(`${url} is missing (HTTP ${response.status}).`);
    }
    const type = response.headers.get("Content-Type");
    if (url.endsWith(".wasm") && response.ok && type && !type.startsWith("application/wasm")) {
      throw new Error(`the server sends ${url} as "${type}"; it must send "application/wasm".`);
    }
  });
  await Promise.all(checks);
}

function watchWasmFailure() {
  const originalWarn = console.warn;
  let failed = false;
  let reject;
  const promise = new Promise((_, rejectPromise) => {
    reject = rejectPromise;
  });
  console.warn = function (...args) {
    originalWarn.apply(this, args);
    if (args[0] === WASM_FAILURE_WARNING) {
      failed = true;
    } else if (failed) {
      const cause = args[0] instanceof Error ? args[0].message : String(args[0]);
      if (/MIME type/i.test(cause)) {
        reject(new Error(`the server sends pyodide.asm.wasm with the wrong MIME type; it must send "application/wasm". (${cause})`));
      } else {
        reject(new Error(`the WebAssembly module could not be compiled: ${cause}`));
      }
    }
  };
  return { promise, stop: () => (console.warn = originalWarn) };
}

// loadPackage() resolves even when a package fails to load; it reports the failure
// through errorCallback only, so this turns that report into a rejection.
async function installWheel(pyodide, url) {
  const errors = [];
  await pyodide.loadPackage(url.href, { messageCallback: () => {}, errorCallback: (text) => errors.push(text) });
  if (errors.length > 0) throw new Error(errors.join("\n"));
}

function checkWebAssembly() {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.instantiate !== "function") {
    throw new Error("this browser does not support WebAssembly, which webvi needs.");
  }
}

async function boot() {
  document.documentElement.dataset.webviState = "loading";
  for (const notice of document.querySelectorAll("[data-webvi-stalled]")) notice.remove();
  await step("support", checkWebAssembly);

  // The manifest and Pyodide load side by side; each step reports its own failure.
  const pyodideLoading = startPyodide();
  pyodideLoading.catch(() => {}); // awaited below, once the manifest step is done
  const manifest = await step("manifest", fetchManifest);
  const pyodide = await step("pyodide", () => pyodideLoading);

  // pyodide.loadPackage installs the wheel (with its dist-info) without importing
  // micropip, whose import and resolver cost more than the rest of webvi's boot. The
  // site still ships micropip in its lock file for pages that install more packages.
  STEPS.webvi.text = `Installing webvi ${manifest.webvi}`;
  await step("webvi", () => installWheel(pyodide, new URL(manifest.webvi_wheel, SITE_URL)));

  const { version, page } = await step("runtime", async () => {
    const fetchHelper = await import(new URL("webvi-fetch.mjs", SITE_URL).href);
    pyodide.registerJsModule("webvi_fetch", fetchHelper);
    const webvi = pyodide.pyimport("webvi");
    try {
      return { version: webvi.__version__, page: pyodide.pyimport("webvi.browser.page") };
    } finally {
      webvi.destroy();
    }
  });

  const bootMs = performance.now();
  showReady(version);
  mountPanels(page);
  return { pyodide, version, bootMs };
}

// --- front panels -------------------------------------------------------------------------

const panels = new Map(); // container element -> Promise<Panel>

function panelContainers() {
  return [...document.querySelectorAll("[data-webvi]")];
}

// A page that embeds panels without a boot section of its own gets one in each panel.
function prepareContainers() {
  if (document.querySelector("[data-webvi-boot]")) return;
  for (const container of panelContainers()) {
    container.dataset.webviPanelState = "loading";
    const progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.dataset.webviProgress = "";
    const status = document.createElement("p");
    status.dataset.webviStatus = "";
    status.setAttribute("role", "status");
    const error = document.createElement("p");
    error.dataset.webviError = "";
    error.setAttribute("role", "alert");
    error.hidden = true;
    const boot = document.createElement("div");
    boot.className = "webvi-boot";
    boot.append(progress, status, error);
    container.replaceChildren(boot);
  }
}

function mountPanels(page) {
  const modulePromise = import(new URL("webvi-panel.mjs", SITE_URL).href);
  for (const container of panelContainers()) {
    const mounted = modulePromise.then(({ Panel }) => mountPanel(container, page, Panel));
    mounted.catch(() => {}); // shown in the container; window.webvi.panel() rejects with it
    panels.set(container, mounted);
  }
}

async function mountPanel(container, page, Panel) {
  const url = new URL(container.dataset.webvi, document.baseURI);
  try {
    const response = await fetch(url, { cache: "no-cache" });
    if (!response.ok) throw new Error(`${url} returned HTTP ${response.status}`);
    const text = await response.text();
    const problems = JSON.parse(page.vi_problems(text));
    if (problems.length > 0) throw new Error(`The VI file ${url} is invalid:\n${problems.join("\n")}`);
    const session = page.open_panel(text);
    const panel = new Panel(container, JSON.parse(session.describe()), session);
    panel.render();
    applyInitialValues(panel, container);
    if (panel.description.run_on_load || "webviRunOnLoad" in container.dataset) panel.run().catch(() => {});
    return panel;
  } catch (error) {
    const alert = document.createElement("p");
    alert.className = "webvi-panel-error";
    alert.setAttribute("role", "alert");
    alert.textContent = `This front panel could not be loaded. ${summarize(error)}`;
    container.replaceChildren(alert);
    container.dataset.webviPanelState = "failed";
    throw error;
  }
}

// Control values from the container's data-webvi-controls (JSON by control id) and from
// the page's query string (?url=...), which wins. A value that does not fit is skipped
// and named in the panel's status line, so the panel still loads. The query string never
// sets password controls, because URLs end up in histories and logs.
function applyInitialValues(panel, container) {
  const values = [];
  if (container.dataset.webviControls) {
    try {
      values.push(...Object.entries(JSON.parse(container.dataset.webviControls)).map(([id, value]) => [id, value, "data-webvi-controls"]));
    } catch (error) {
      panel.statusLine.textContent = `Ignored data-webvi-controls, which is not valid JSON: ${error.message}`;
    }
  }
  for (const [name, text] of new URLSearchParams(location.search)) {
    const control = panel.controls.get(name);
    if (control && !control.isSecret()) values.push([name, text, "query"]);
  }
  const skipped = [];
  for (const [name, raw, origin] of values) {
    try {
      const control = panel.findControl(name);
      panel.setControl(name, origin === "query" ? parseQueryValue(control.spec.type, raw) : raw);
    } catch (error) {
      skipped.push(origin === "query" ? `?${name}=${raw}: ${error.message}` : error.message);
    }
  }
  if (skipped.length > 0) panel.statusLine.textContent = `Ignored initial values: ${skipped.join("; ")}`;
}

const TRUE_WORDS = ["true", "1", "yes", "on"];
const FALSE_WORDS = ["false", "0", "no", "off"];

// Query values are text; numeric controls check the text themselves, so it passes through.
function parseQueryValue(type, text) {
  if (type === "Boolean") {
    const word = text.toLowerCase();
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    throw new Error(`expected one of ${[...TRUE_WORDS, ...FALSE_WORDS].join(", ")}`);
  }
  if (type === "ErrorCluster" || type === "ByteArray") {
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`expected JSON for a ${type}`);
    }
  }
  return text;
}

async function findPanel(target) {
  await window.webvi.ready;
  const container = typeof target === "string" ? document.getElementById(target) ?? document.querySelector(target) : target;
  if (!panels.has(container)) throw new Error(`no front panel at ${String(target)}; panels are elements with data-webvi`);
  return panels.get(container);
}

function start() {
  const ready = boot().catch((error) => {
    const shown = error instanceof BootError ? error : new BootError("runtime", error);
    showFailure(shown);
    console.error(shown.message, shown.cause);
    throw shown;
  });
  ready.catch(() => {}); // the failure is on the page; an unhandled rejection adds nothing
  return ready;
}

prepareContainers();
window.webvi = { ready: start(), panel: findPanel };
