// The JSON editor: a textarea over a highlighted copy of its text, line numbers, and the
// problems of the text (syntax as you type; a schema's, by JSON pointer) on their lines.

import { h, fill } from "./dom.js";
import { read, lineOf } from "./json.js";

const TOKEN = /("(?:[^"\\\n]|\\.)*"?)(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|\b(true|false|null)\b|([{}[\],])/g;
let editors = 0;

function highlight(line) {
  const parts = [];
  let last = 0;
  for (const match of line.matchAll(TOKEN)) {
    if (match.index > last) parts.push(line.slice(last, match.index));
    const [text, string, colon, number, literal] = match;
    if (string !== undefined) {
      parts.push(h("span", { class: colon ? "tk-key" : "tk-str" }, string));
      if (colon) parts.push(colon);
    } else if (number !== undefined) parts.push(h("span", { class: "tk-num" }, text));
    else if (literal !== undefined) parts.push(h("span", { class: "tk-lit" }, text));
    else parts.push(h("span", { class: "tk-punct" }, text));
    last = match.index + text.length;
  }
  parts.push(line.slice(last));
  return parts;
}

export class JsonEditor {
  /** `label`: the textarea's accessible name; `onInput(editor)` after every edit. */
  constructor({ label, text = "{}", onInput = () => {}, onSave = null }) {
    const id = `editor-${++editors}`;
    this.issuesId = `${id}-issues`;
    this.area = h("textarea", {
      id, class: "code-input", spellcheck: "false", autocapitalize: "off", autocomplete: "off",
      "aria-describedby": this.issuesId, wrap: "off",
    });
    this.area.value = text;
    this.overlay = h("pre", { class: "code-view", "aria-hidden": "true" });
    this.gutter = h("div", { class: "gutter", "aria-hidden": "true" });
    this.issues = h("ul", { id: this.issuesId, class: "issues", "aria-live": "polite" });
    this.node = h("div", { class: "editor-block" },
      h("label", { for: id }, label),
      h("div", { class: "editor" }, this.gutter, h("div", { class: "code" }, this.overlay, this.area)),
      this.issues);
    this.schemaIssues = [];
    this.area.addEventListener("input", () => { this.schemaIssues = []; this.render(); onInput(this); });
    this.area.addEventListener("scroll", () => this.sync());
    this.area.addEventListener("keydown", (event) => this.key(event, onSave));
    this.render();
  }

  get text() { return this.area.value; }

  set text(value) { this.area.value = value; this.schemaIssues = []; this.render(); }

  /** {ok, value} or {ok: false, error} for the current text. */
  parse() {
    try {
      const { value, places } = read(this.area.value);
      this.places = places;
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        return { ok: false, error: { line: 1, message: "Line 1: a configuration is a JSON object ({…})" } };
      }
      return { ok: true, value };
    } catch (error) {
      return { ok: false, error: { line: error.line || 1, message: error.message } };
    }
  }

  /** A schema's problems: [{pointer (into the config), message}]. */
  setIssues(issues) { this.schemaIssues = issues; this.render(); }

  render() {
    const parsed = this.parse();
    const problems = parsed.ok
      ? this.schemaIssues.map((issue) => ({
        line: lineOf(this.area.value, this.places, issue.pointer),
        message: `${issue.pointer || "(the whole configuration)"}: ${issue.message}`,
      }))
      : [parsed.error];
    const bad = new Map(problems.map((p) => [p.line, p.message]));
    const lines = this.area.value.split("\n");
    fill(this.overlay, lines.map((line, index) => h("span", { class: bad.has(index + 1) ? "ln bad" : "ln" }, highlight(line), "\n")));
    fill(this.gutter, lines.map((_, index) => h("span", { class: bad.has(index + 1) ? "bad" : "", title: bad.get(index + 1) }, String(index + 1))));
    fill(this.issues, problems.map((p) => h("li", { class: "issue", "data-line": p.line },
      h("button", { type: "button", class: "link", onclick: () => this.goTo(p.line) }, `line ${p.line}`), " ", p.message)));
    this.area.setAttribute("aria-invalid", problems.length ? "true" : "false");
    this.valid = problems.length === 0;
    this.sync();
  }

  sync() {
    this.overlay.scrollTop = this.area.scrollTop;
    this.overlay.scrollLeft = this.area.scrollLeft;
    this.gutter.scrollTop = this.area.scrollTop;
  }

  goTo(line) {
    const lines = this.area.value.split("\n");
    const offset = lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0);
    this.area.focus();
    this.area.setSelectionRange(offset, offset + (lines[line - 1] || "").length);
  }

  key(event, onSave) {
    if ((event.ctrlKey || event.metaKey) && (event.key.toLowerCase() === "s" || event.key === "Enter") && onSave) {
      event.preventDefault();
      onSave();
      return;
    }
    if (event.key === "Enter" && !event.ctrlKey && !event.metaKey) {
      // Keep the indentation of the line.
      const start = this.area.selectionStart;
      const line = this.area.value.slice(0, start).split("\n").pop();
      const indent = /^\s*/.exec(line)[0] + (/[{[]\s*$/.test(line) ? "  " : "");
      event.preventDefault();
      this.area.setRangeText("\n" + indent, start, this.area.selectionEnd, "end");
      this.area.dispatchEvent(new Event("input"));
    }
  }

  focus() { this.area.focus(); }
}
