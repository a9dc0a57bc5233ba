// Front panels: renders a VI's controls and indicators as HTML, runs its diagram through
// the Python session (webvi.browser.page.PanelSession) and shows values as they arrive.
//
// Every value is written with textContent, so a response body that contains HTML or
// script shows as text and never runs. Panels are plain DOM: labels are <label> elements,
// controls are native inputs, and everything is reachable with the keyboard.

const I32_MIN = -(2 ** 31);
const I32_MAX = 2 ** 31 - 1;
const U32_MAX = 2 ** 32 - 1;
const INTEGER_RANGES = {
  I32: [I32_MIN, I32_MAX],
  U32: [0, U32_MAX],
  HTTPClientHandle: [0, U32_MAX],
};
const FULL_WIDTH = 12;
const BYTES_SHOWN = 256;

let panelCount = 0;

function element(tag, properties = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(properties)) {
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name === "text") node.textContent = value;
    else if (name in node && !name.startsWith("aria")) node[name] = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

function defaultWidth(item) {
  if (item.width) return item.width;
  return item.type === "ErrorCluster" || item.display === "multiline" ? FULL_WIDTH : 6;
}

function formatBytes(values) {
  const shown = values.slice(0, BYTES_SHOWN).map((byte) => byte.toString(16).padStart(2, "0"));
  const more = values.length > BYTES_SHOWN ? ` … (${values.length - BYTES_SHOWN} more)` : "";
  return `${values.length} bytes${values.length ? ": " : ""}${shown.join(" ")}${more}`;
}

function rangeText(low, high) {
  if (low === -Infinity) return `enter a value of at most ${high}`;
  if (high === Infinity) return `enter a value of at least ${low}`;
  return `enter a value from ${low} to ${high}`;
}

function parseHexBytes(text) {
  const parts = text.trim() ? text.trim().split(/[\s,]+/) : [];
  const bytes = parts.map((part) => (/^(0x)?[0-9a-f]{1,2}$/i.test(part) ? parseInt(part, 16) : NaN));
  if (bytes.some(Number.isNaN)) throw new Error("enter bytes as hexadecimal pairs separated by spaces, such as 48 65 6c");
  return bytes;
}

function formatNumber(value) {
  return String(value); // NaN and infinities arrive as their names, which String() also gives
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const DBL_NAMES = ["NaN", "Infinity", "-Infinity"];

// --- controls ---------------------------------------------------------------------------

class Control {
  constructor(panel, spec) {
    this.panel = panel;
    this.spec = spec;
    this.id = `${panel.domId}-control-${spec.id}`;
    this.problem = null;
    this.root = element("div", { className: "webvi-item webvi-control", dataset: { webviControl: spec.id } });
    this.root.style.setProperty("--webvi-span", defaultWidth(spec));
    this.build();
    this.set(spec.default);
  }

  label() {
    return element("label", { htmlFor: this.id, text: this.spec.label, className: "webvi-label" });
  }

  message() {
    this.messageNode = element("p", { className: "webvi-message", id: `${this.id}-message`, hidden: true });
    return this.messageNode;
  }

  build() {
    const { type, display } = this.spec;
    if (type === "Boolean") {
      this.input = element("input", { type: "checkbox", id: this.id, role: "switch", className: "webvi-switch" });
      this.root.append(element("div", { className: "webvi-switch-row" }, [this.input, this.label()]));
    } else if (type === "String" && display === "multiline") {
      this.input = element("textarea", { id: this.id, rows: 4, spellcheck: false });
      this.root.append(this.label(), this.input);
    } else if (type === "String") {
      const kind = display === "password" ? "password" : "text";
      this.input = element("input", { type: kind, id: this.id, spellcheck: false, autocomplete: "off" });
      this.root.append(this.label(), this.input);
    } else if (type in INTEGER_RANGES || type === "DBL") {
      this.input = element("input", { type: "text", id: this.id, inputMode: type === "DBL" ? "decimal" : "numeric" });
      this.root.append(this.label(), this.input);
    } else if (type === "ByteArray") {
      this.input = element("input", { type: "text", id: this.id, spellcheck: false, placeholder: "48 65 6c 6c 6f" });
      this.root.append(this.label(), this.input);
    } else if (type === "ErrorCluster") {
      this.buildErrorCluster();
    } else {
      throw new Error(`control ${this.spec.id}: type ${type} has no front panel control`);
    }
    this.root.append(this.message());
    if (this.input) {
      this.input.setAttribute("aria-describedby", `${this.id}-message`);
      const event = type === "Boolean" ? "change" : "input";
      this.input.addEventListener(event, () => this.changed());
    }
  }

  buildErrorCluster() {
    const fieldset = element("fieldset", { className: "webvi-cluster" }, [element("legend", { text: this.spec.label })]);
    this.status = element("input", { type: "checkbox", id: `${this.id}-status`, role: "switch", className: "webvi-switch" });
    this.code = element("input", { type: "text", id: `${this.id}-code`, inputMode: "numeric" });
    this.source = element("textarea", { id: `${this.id}-source`, rows: 2, spellcheck: false });
    fieldset.append(
      element("div", { className: "webvi-switch-row" }, [this.status, element("label", { htmlFor: this.status.id, text: "status" })]),
      element("label", { htmlFor: this.code.id, text: "code" }),
      this.code,
      element("label", { htmlFor: this.source.id, text: "source" }),
      this.source,
    );
    this.code.setAttribute("aria-describedby", `${this.id}-message`);
    for (const input of [this.status, this.code, this.source]) input.addEventListener("input", () => this.changed());
    this.root.append(fieldset);
  }

  snapshot() {
    return [this.input, this.status, this.code, this.source].filter(Boolean).map((input) => [input.value, input.checked]);
  }

  restore(saved) {
    const inputs = [this.input, this.status, this.code, this.source].filter(Boolean);
    inputs.forEach((input, index) => {
      [input.value, input.checked] = saved[index];
    });
    this.validate();
  }

  isSecret() {
    return this.spec.display === "password";
  }

  changed() {
    this.validate();
    this.panel.emit("webvi:control", { id: this.spec.id, value: this.problem ? null : this.value() });
  }

  // Shows a JSON value in the control; throws when the value has the wrong JSON type.
  // Range and number problems are left to validate(), which marks the control invalid.
  set(value) {
    const { type } = this.spec;
    if (type === "Boolean") {
      if (typeof value !== "boolean") throw new Error(`expected true or false, got ${JSON.stringify(value)}`);
      this.input.checked = value;
    } else if (type === "ErrorCluster") {
      const { status = false, code = 0, source = "" } = value ?? {};
      if (typeof status !== "boolean" || typeof source !== "string" || typeof code !== "number") {
        throw new Error("an error cluster is {status: Boolean, code: number, source: string}");
      }
      this.status.checked = status;
      this.code.value = String(code);
      this.source.value = source;
    } else if (type === "ByteArray") {
      const bytes = value ?? [];
      if (!Array.isArray(bytes) || bytes.some((byte) => !Number.isInteger(byte) || byte < 0 || byte > 255)) {
        throw new Error("a byte array is a list of integers from 0 to 255");
      }
      this.input.value = bytes.map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
    } else if (type === "String") {
      if (typeof (value ?? "") !== "string") throw new Error(`expected a string, got ${JSON.stringify(value)}`);
      this.input.value = value ?? "";
    } else {
      if (!["number", "string"].includes(typeof (value ?? 0))) throw new Error(`expected a number, got ${JSON.stringify(value)}`);
      this.input.value = formatNumber(value ?? 0);
    }
    this.validate();
  }

  // Returns the control's value as JSON for the VI, or throws with what is wrong.
  value() {
    const { type } = this.spec;
    if (type === "Boolean") return this.input.checked;
    if (type === "String") return this.input.value;
    if (type === "ByteArray") return parseHexBytes(this.input.value);
    if (type === "ErrorCluster") {
      return { status: this.status.checked, code: this.parseNumber("I32", this.code.value, "code: "), source: this.source.value };
    }
    return this.parseNumber(type, this.input.value);
  }

  parseNumber(type, text, field = "") {
    const trimmed = text.trim();
    const named = type === "DBL" && DBL_NAMES.includes(trimmed);
    if (!named && !DECIMAL.test(trimmed)) throw new Error(`${field}"${text}" is not a decimal number`);
    const number = named ? Number(trimmed) : Number(trimmed);
    if (type !== "DBL" && !Number.isInteger(number)) throw new Error(`${field}${type} takes whole numbers only`);
    if (type === "DBL" && !named && !Number.isFinite(number)) throw new Error(`${field}"${text}" is too large for a DBL`);
    let [low, high] = INTEGER_RANGES[type] ?? [-Infinity, Infinity];
    if (this.spec.minimum != null) low = Math.max(low, this.spec.minimum);
    if (this.spec.maximum != null) high = Math.min(high, this.spec.maximum);
    const limited = low !== -Infinity || high !== Infinity;
    if (Number.isNaN(number) && limited) throw new Error(`${field}NaN is outside the allowed range`);
    if (number < low || number > high) throw new Error(`${field}${rangeText(low, high)}`);
    return named ? trimmed : number;
  }

  validate() {
    try {
      this.value();
      this.problem = null;
    } catch (error) {
      this.problem = error.message;
    }
    const invalid = this.problem !== null;
    for (const input of [this.input, this.code].filter(Boolean)) input.setAttribute("aria-invalid", String(invalid));
    this.messageNode.textContent = this.problem ?? "";
    this.messageNode.hidden = !invalid;
    return !invalid;
  }
}

// --- indicators -------------------------------------------------------------------------

class Indicator {
  constructor(panel, spec) {
    this.panel = panel;
    this.spec = spec;
    this.id = `${panel.domId}-indicator-${spec.id}`;
    this.root = element("div", { className: "webvi-item webvi-indicator", dataset: { webviIndicator: spec.id } });
    this.root.style.setProperty("--webvi-span", defaultWidth(spec));
    this.build();
    this.clear();
  }

  build() {
    const { type, display } = this.spec;
    if (type === "ErrorCluster") {
      this.buildErrorCluster();
      return;
    }
    const multiline = type === "String" && display === "multiline";
    this.output = element("output", {
      id: this.id,
      className: multiline ? "webvi-output webvi-multiline" : "webvi-output",
      dataset: { webviValue: "" },
    });
    if (multiline) this.output.tabIndex = 0; // lets keyboard users scroll long text
    if (type === "Boolean") {
      this.led = element("span", { className: "webvi-led", "aria-hidden": "true" });
      this.ledText = element("span", { className: "webvi-visually-hidden" });
      this.output.append(this.led, this.ledText);
    }
    this.root.append(element("label", { htmlFor: this.id, text: this.spec.label, className: "webvi-label" }), this.output);
  }

  buildErrorCluster() {
    const fieldset = element("fieldset", { className: "webvi-cluster", dataset: { webviValue: "" } }, [
      element("legend", { text: this.spec.label }),
    ]);
    const field = (name, multiline) => {
      const output = element("output", {
        id: `${this.id}-${name}`,
        className: multiline ? "webvi-output webvi-multiline webvi-source" : "webvi-output",
        dataset: { webviField: name },
      });
      if (multiline) output.tabIndex = 0;
      return output;
    };
    this.status = field("status", false);
    this.led = element("span", { className: "webvi-led", "aria-hidden": "true" });
    this.ledText = element("span", {});
    this.status.append(this.led, this.ledText);
    this.code = field("code", false);
    this.source = field("source", true);
    const row = element("div", { className: "webvi-cluster-row" }, [
      element("div", {}, [element("label", { htmlFor: this.status.id, text: "status" }), this.status]),
      element("div", {}, [element("label", { htmlFor: this.code.id, text: "code" }), this.code]),
    ]);
    fieldset.append(row, element("label", { htmlFor: this.source.id, text: "source" }), this.source);
    this.root.append(fieldset);
  }

  clear() {
    this.value = undefined;
    const { type } = this.spec;
    if (type === "ErrorCluster") this.show({ status: false, code: 0, source: "" });
    else if (type === "Boolean") this.show(false);
    else if (type === "String") this.show("");
    else if (type === "ByteArray") this.show([]);
    else this.show(0);
    this.value = undefined;
    this.root.dataset.webviWritten = "false";
  }

  show(value) {
    this.value = value;
    const { type } = this.spec;
    if (type === "ErrorCluster") {
      let kind = "ok";
      if (value.status) kind = "error";
      else if (value.code) kind = "warning";
      this.led.dataset.on = String(value.status);
      this.led.dataset.kind = kind;
      this.ledText.textContent = kind === "ok" ? "no error" : kind;
      this.code.textContent = String(value.code);
      this.source.textContent = value.source;
    } else if (type === "Boolean") {
      this.led.dataset.on = String(value);
      this.ledText.textContent = value ? "on" : "off";
    } else if (type === "ByteArray") {
      this.output.textContent = formatBytes(value);
    } else if (type === "String") {
      this.output.textContent = value;
    } else {
      this.output.textContent = formatNumber(value);
    }
    this.root.dataset.webviWritten = "true";
  }
}

// --- panel ------------------------------------------------------------------------------

export class Panel {
  constructor(container, description, session) {
    panelCount += 1;
    this.container = container;
    this.description = description;
    this.session = session;
    this.domId = container.id || `webvi-panel-${panelCount}`;
    this.controls = new Map();
    this.indicators = new Map();
    this.running = null;
    this.lastResult = null;
  }

  render() {
    const { name, description, controls, indicators } = this.description;
    const heading = element("h2", { className: "webvi-title", text: name });
    const about = description ? element("p", { className: "webvi-description", text: description }) : "";
    this.runButton = element("button", { type: "button", className: "webvi-run", text: "Run", dataset: { webviAction: "run" } });
    this.abortButton = element("button", {
      type: "button", className: "webvi-abort", text: "Abort", disabled: true, dataset: { webviAction: "abort" },
    });
    this.statusLine = element("p", { className: "webvi-run-status", role: "status", text: "Ready." });
    this.runButton.addEventListener("click", () => this.run().catch(() => {}));
    this.abortButton.addEventListener("click", () => this.abort());
    const toolbar = element("div", { className: "webvi-toolbar" }, [this.runButton, this.abortButton, this.statusLine]);

    const controlItems = controls.map((spec) => {
      const control = new Control(this, spec);
      this.controls.set(spec.id, control);
      return [spec, control.root];
    });
    const indicatorItems = indicators.map((spec) => {
      const indicator = new Indicator(this, spec);
      this.indicators.set(spec.id, indicator);
      return [spec, indicator.root];
    });
    this.indicatorSection = element("section", { className: "webvi-section", "aria-label": "Indicators" }, this.layout(indicatorItems));
    const panel = element("div", { className: "webvi-panel" }, [
      heading,
      about,
      element("section", { className: "webvi-section", "aria-label": "Controls" }, this.layout(controlItems)),
      toolbar,
      this.indicatorSection,
    ]);
    this.container.replaceChildren(panel);
    this.container.dataset.webviPanelState = "ready";
  }

  // Places items in a 12-column grid in file order; items that share a group go in one
  // fieldset, placed where the group's first item is.
  layout(items) {
    const grid = element("div", { className: "webvi-grid" });
    const groups = new Map();
    for (const [spec, node] of items) {
      if (!spec.group) {
        grid.append(node);
        continue;
      }
      let group = groups.get(spec.group);
      if (!group) {
        group = element("div", { className: "webvi-grid" });
        groups.set(spec.group, group);
        grid.append(element("fieldset", { className: "webvi-group" }, [element("legend", { text: spec.group }), group]));
      }
      group.append(node);
    }
    return [grid];
  }

  emit(type, detail) {
    this.container.dispatchEvent(new CustomEvent(type, { detail, bubbles: true }));
  }

  // Sets a control; a value that does not fit throws and leaves the control as it was.
  setControl(id, value) {
    const control = this.findControl(id);
    const previous = control.snapshot();
    try {
      control.set(value);
      if (control.problem) throw new Error(control.problem);
    } catch (error) {
      control.restore(previous);
      throw new Error(`control "${control.spec.label}": ${error.message}`);
    }
  }

  findControl(name) {
    const control = this.controls.get(name) ?? [...this.controls.values()].find((item) => item.spec.label === name);
    if (!control) {
      const known = [...this.controls.keys()].join(", ") || "none";
      throw new Error(`the panel has no control "${name}"; controls: ${known}`);
    }
    return control;
  }

  indicator(name) {
    const indicator = this.indicators.get(name) ?? [...this.indicators.values()].find((item) => item.spec.label === name);
    if (!indicator) throw new Error(`the panel has no indicator "${name}"`);
    return indicator.value;
  }

  controlValues() {
    const values = {};
    const problems = [];
    for (const [id, control] of this.controls) {
      if (!control.validate()) problems.push(`${control.spec.label}: ${control.problem}`);
      else values[id] = control.value();
    }
    if (problems.length) throw new Error(`Fix the controls first: ${problems.join("; ")}`);
    return values;
  }

  setRunning(running) {
    this.container.dataset.webviPanelState = running ? "running" : "ready";
    this.runButton.disabled = running;
    this.abortButton.disabled = !running;
    this.indicatorSection.setAttribute("aria-busy", String(running));
  }

  // Runs the diagram once with the current control values and resolves with the result
  // ({status, indicators, error}); a second Run while one is running is refused.
  async run() {
    if (this.running) throw new Error("the VI is already running");
    let values;
    try {
      values = this.controlValues();
    } catch (error) {
      this.statusLine.textContent = error.message;
      throw error;
    }
    for (const indicator of this.indicators.values()) indicator.clear();
    this.setRunning(true);
    this.statusLine.textContent = "Running…";
    const started = performance.now();
    // Password controls are left out: any script on the page can listen to these events.
    const shown = Object.fromEntries(Object.entries(values).filter(([id]) => !this.controls.get(id).isSecret()));
    this.emit("webvi:run", { controls: shown });
    const onIndicator = (id, text) => {
      const value = JSON.parse(text);
      this.indicators.get(id)?.show(value);
      this.emit("webvi:indicator", { id, value });
    };
    this.running = this.session.run(JSON.stringify(values), onIndicator);
    try {
      const result = JSON.parse(await this.running);
      this.lastResult = result;
      this.statusLine.textContent = this.describeResult(result, performance.now() - started);
      this.emit("webvi:done", result);
      return result;
    } catch (error) {
      this.statusLine.textContent = `The run failed: ${error.message}`;
      throw error;
    } finally {
      this.running = null;
      this.setRunning(false);
    }
  }

  describeResult(result, milliseconds) {
    const time = `${Math.round(milliseconds)} ms`;
    if (result.status === "aborted") return `Aborted after ${time}.`;
    if (result.status === "failed") return `The run failed after ${time}: error ${result.error.code}, ${result.error.source}`;
    return `Finished in ${time}.`;
  }

  abort() {
    if (this.running) this.session.abort();
  }
}
