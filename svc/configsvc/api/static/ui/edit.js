// The configuration editor: validation as you type (syntax here, the schema through a dry run),
// a review step (diff + reason) before saving, and someone else's change shown against yours.

import * as api from "./api.js";
import * as live from "./live.js";
import { h, fill, flash, when, toast, problemText, debounce } from "./dom.js";
import { JsonEditor } from "./editor.js";
import { diffView } from "./diff.js";
import { pretty } from "./json.js";

const schemaSupport = new Map(); // application id -> whether the server has schemas (issue 13)

/** Whether this server validates against schemas (and so answers `?dry_run=true`). */
export async function hasSchemas(appId) {
  if (!schemaSupport.has(appId)) {
    schemaSupport.set(appId, api.call("GET", `/applications/${appId}/schemas`).then(() => true, () => false));
  }
  return schemaSupport.get(appId);
}

/** A schema violation's field ("config/a/b": into the request body) as a pointer into the config. */
export const pointerOf = (field) => String(field || "").replace(/^\/?/, "/").replace(/^\/config(?=\/|$)/, "");
export const issuesOf = (errors) => (errors || []).map((e) => ({ pointer: pointerOf(e.field), message: e.message }));

export async function editorPage(view, ctx, id) {
  const loaded = await api.call("GET", `/configurations/${id}`);
  let base = loaded.data; // the version the edit started from
  const app = await api.get(`/applications/${base.application_id}`);
  const schemas = await hasSchemas(base.application_id);
  const version = h("span", { class: "badge", id: "version" }, `version ${base.version}`);
  const status = h("p", { class: "status", id: "edit-status", role: "status" });
  const panel = h("div", { id: "panel" });
  const reviewButton = h("button", { type: "button", id: "review", onclick: () => review() }, "Review changes");
  let saving = false;

  const dirty = () => { const p = editor.parse(); return !p.ok || pretty(p.value) !== pretty(base.config); };
  const validate = debounce(async () => {
    const parsed = editor.parse();
    if (!parsed.ok || !schemas) return;
    try {
      const { data } = await api.call("PUT", `/configurations/${id}`, {
        query: { dry_run: "true" }, ifMatch: base.version,
        body: { name: base.name, comments: base.comments, config: parsed.value },
      });
      editor.setIssues(data.valid === false ? issuesOf(data.errors) : []);
    } catch (error) {
      if (error.errors.length) editor.setIssues(issuesOf(error.errors));
    }
    changed();
  }, 400);
  const changed = () => {
    const parsed = editor.parse();
    reviewButton.disabled = !editor.valid || !dirty();
    status.textContent = !parsed.ok ? "Not valid JSON" : !editor.valid ? "Refused by the schema"
      : dirty() ? "Edited: review to save" : "No changes";
  };
  const editor = new JsonEditor({
    label: `${base.name} (JSON)`, text: pretty(base.config),
    onInput: () => { changed(); validate(); }, onSave: () => review(),
  });

  function review() {
    const parsed = editor.parse();
    if (!parsed.ok || !editor.valid) { status.textContent = "Fix the problems first"; editor.focus(); return; }
    if (!dirty()) { status.textContent = "No changes to save"; return; }
    const reason = h("textarea", { id: "reason", required: true, maxlength: 1024, rows: 2 });
    const note = h("p", { class: "error", role: "alert" });
    const save = async (event) => {
      event.preventDefault();
      if (!reason.value.trim()) { note.textContent = "Say why: the reason is recorded with the version."; reason.focus(); return; }
      await store(parsed.value, reason.value.trim(), note);
    };
    fill(panel, h("section", { class: "card review", "aria-labelledby": "review-title" },
      h("h2", { id: "review-title" }, "Review your change"),
      diffView(base.config, parsed.value, `version ${base.version}`, "your edit"),
      h("form", { onsubmit: save },
        h("label", { for: "reason" }, "Reason for the change"), reason, note,
        h("div", { class: "row" }, h("button", { type: "submit", id: "save" }, "Save"),
          h("button", { type: "button", class: "secondary", onclick: () => { fill(panel); editor.focus(); } }, "Back to editing")))));
    reason.addEventListener("keydown", (event) => { if ((event.ctrlKey || event.metaKey) && event.key === "Enter") save(event); });
    reason.focus();
  }

  async function store(config, reason, note) {
    saving = true;
    try {
      const { data } = await api.call("PUT", `/configurations/${id}`, {
        ifMatch: base.version, reason, body: { name: base.name, comments: base.comments, config },
      });
      accept(data);
      toast(`Saved version ${data.version}`);
    } catch (error) {
      if (error.status === 412) { await conflict((await api.call("GET", `/configurations/${id}`)).data, null); return; }
      note.textContent = problemText(error);
      if (error.errors.length) { editor.setIssues(issuesOf(error.errors)); fill(panel); changed(); }
    } finally { saving = false; }
  }

  function accept(config) {
    base = config;
    version.textContent = `version ${base.version}`;
    editor.text = pretty(base.config);
    fill(panel);
    changed();
    flash(version);
  }

  async function conflict(theirs, message) {
    const parsed = editor.parse();
    const mine = parsed.ok ? parsed.value : editor.text;
    const who = message && message.actor ? message.actor.name : "someone";
    const why = message && message.reason ? [" — ", h("q", {}, message.reason)] : "";
    fill(panel, h("section", { class: "card conflict", role: "alert", "aria-labelledby": "conflict-title" },
      h("h2", { id: "conflict-title" }, "Someone else changed this configuration"),
      h("p", {}, `Version ${theirs.version} by ${who}`, " ", when(theirs.updated_at), why),
      diffView(theirs.config, mine, `their version ${theirs.version}`, "your edit"),
      h("div", { class: "row" },
        h("button", { type: "button", id: "keep-mine", onclick: () => { base = theirs; version.textContent = `version ${base.version}`; fill(panel); changed(); review(); } }, "Keep mine (review it over theirs)"),
        h("button", { type: "button", id: "take-theirs", class: "secondary", onclick: () => { accept(theirs); editor.focus(); } }, "Take theirs (drop my edit)"))));
    panel.querySelector("#keep-mine").focus();
  }

  fill(view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Search"), " / ", h("a", { href: `#/app/${app.id}` }, app.name), " / ", base.name),
    h("h1", {}, base.name, " ", version),
    h("nav", { class: "tabs", "aria-label": "Configuration" }, h("a", { href: `#/config/${id}/history` }, "History"),
      h("a", { href: `#/config/${id}/rollouts` }, "Rollouts")),
    h("p", { class: "hint" }, schemas ? "Checked against the application's schema as you type. " : "",
      "Ctrl+S (⌘S) reviews and saves; Tab leaves the editor."),
    editor.node, status, h("div", { class: "row" }, reviewButton), panel);
  // Stored before its schema was (force=true): say where it fails it now.
  if (base.schema_errors && base.schema_errors.length) editor.setIssues(issuesOf(base.schema_errors));
  changed();

  ctx.onLeave(live.follow(base.application_id, async (message) => {
    // Subscribed from the revision this page was read at, so a change committed before the
    // subscription still arrives as a change; a reset snapshot (after a long outage) counts too.
    if (message.type !== "change" && message.type !== "snapshot") return;
    const theirs = message.configuration && message.configuration.id === id ? message.configuration
      : (message.configurations || []).find((c) => c.id === id);
    if (message.op === "deleted" && message.configuration?.id === id) { status.textContent = "This configuration was just deleted."; return; }
    if (!theirs || theirs.version <= base.version || saving) return;
    const parsed = editor.parse();
    if (!dirty() || (parsed.ok && pretty(parsed.value) === pretty(theirs.config))) {
      accept(theirs);
      status.textContent = `Updated live to version ${theirs.version}${message.actor ? ` by ${message.actor.name}` : ""}`;
      return;
    }
    await conflict(theirs, message);
  }, { since: loaded.revision }));
}
