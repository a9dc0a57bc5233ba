// The baseline boot: Pyodide from the same site with nothing else loaded.
const { loadPyodide } = await import(new URL("pyodide/pyodide.mjs", import.meta.url).href);
await loadPyodide({ indexURL: new URL("pyodide/", import.meta.url).href });
window.bootMs = performance.now();
document.documentElement.dataset.webviState = "ready";
