// An application's JSON Schemas: edited with the same editor, with the dry-run impact on the
// current configurations shown before saving.

import * as api from "./api.js";
import { h, fill, flash, toast, problemText } from "./dom.js";
import { JsonEditor } from "./editor.js";
import { pretty } from "./json.js";
import { hasSchemas } from "./edit.js";

function impactView(result, configs) {
  const errors = result.errors || [];
  if (!errors.length) return h("p", { class: "ok-text", id: "impact" }, "Every current configuration passes this schema.");
  const byConfig = new Map();
  for (const e of errors) {
    const key = e.configuration_id || e.name || "(the schema itself)";
    if (!byConfig.has(key)) byConfig.set(key, []);
    byConfig.get(key).push(e);
  }
  return h("div", { id: "impact" }, h("p", { class: "bad-text" }, `${byConfig.size} configuration(s) would fail it:`),
    h("ul", {}, [...byConfig].map(([key, list]) => h("li", {}, h("strong", {}, configs.get(key) || list[0].name || key),
      h("ul", {}, list.map((e) => h("li", {}, h("code", {}, e.field || "/"), ` ${e.message}`)))))));
}

export async function schemas(view, ctx, id) {
  const app = await api.get(`/applications/${id}`);
  const crumbs = h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Search"), " / ", h("a", { href: `#/app/${id}` }, app.name), " / schemas");
  if (!(await hasSchemas(id))) {
    fill(view, crumbs, h("h1", {}, `Schemas of ${app.name}`), h("p", {}, "This server has no schemas yet (they come with issue 13)."));
    return;
  }
  const configs = new Map((await api.all(`/applications/${id}/configurations`, {}, 200)).map((c) => [c.id, c.name]));
  const list = h("ul", { class: "schema-list" });
  const name = h("input", { id: "schema-name", required: true, value: "*", maxlength: 256 });
  const editor = new JsonEditor({ label: "Schema (JSON Schema, draft 2020-12)", text: pretty({ type: "object" }) });
  const impact = h("div", { id: "impact-panel", "aria-live": "polite" });
  const reason = h("input", { id: "schema-reason", maxlength: 1024 });
  let current = null; // the stored schema being edited
  const path = () => `/applications/${id}/schemas/${encodeURIComponent(name.value.trim())}`;
  const draw = async () => {
    const page = await api.get(`/applications/${id}/schemas`, { limit: 500 });
    fill(list, page.items.length ? page.items.map((s) => h("li", {},
      h("button", { type: "button", class: "link", onclick: () => open(s) }, s.name === "*" ? "* (default for every configuration)" : s.name),
      ` — version ${s.version}`)) : h("li", { class: "muted" }, "No schema yet."));
  };
  const open = (schema) => {
    current = schema;
    name.value = schema.name;
    editor.text = pretty(schema.schema);
    fill(impact);
    editor.focus();
  };
  const check = async () => {
    const parsed = editor.parse();
    if (!parsed.ok) { fill(impact, h("p", { class: "error" }, parsed.error.message)); return null; }
    try {
      const { data } = await api.call("PUT", path(), { body: parsed.value, query: { dry_run: "true" }, ifMatch: current && current.name === name.value.trim() ? current.version : undefined });
      fill(impact, h("h2", {}, "Impact on current configurations"), impactView(data, configs));
      return data;
    } catch (error) {
      fill(impact, h("p", { class: "error", role: "alert" }, problemText(error)));
      return null;
    }
  };
  const save = async (force) => {
    const parsed = editor.parse();
    if (!parsed.ok) return;
    try {
      const { data } = await api.call("PUT", path(), {
        body: parsed.value, reason: reason.value.trim(), query: force ? { force: "true" } : {},
        ifMatch: current && current.name === name.value.trim() ? current.version : undefined,
      });
      current = data;
      toast(`Schema saved (version ${data.version})`);
      fill(impact);
      await draw();
      flash(list);
    } catch (error) {
      if (error.status === 409 && error.problem.configurations) {
        const errors = error.problem.configurations.flatMap((c) => c.errors.map((e) => ({ ...e, configuration_id: c.id, name: c.name })));
        fill(impact, impactView({ errors }, configs),
          h("button", { type: "button", class: "danger", onclick: () => save(true) }, "Save anyway (mark them invalid)"));
      } else fill(impact, h("p", { class: "error", role: "alert" }, problemText(error)));
    }
  };
  fill(view, crumbs, h("h1", {}, `Schemas of ${app.name}`), list,
    h("section", { class: "card" }, h("h2", {}, "Edit a schema"),
      h("label", { for: "schema-name" }, "Configuration name (* for the default)"), name, editor.node,
      h("label", { for: "schema-reason" }, "Reason"), reason,
      h("div", { class: "row" }, h("button", { type: "button", id: "check-impact", onclick: check }, "Check impact"),
        h("button", { type: "button", id: "save-schema", onclick: async () => { if (await check()) await save(false); } }, "Save schema")),
      impact));
  await draw();
}
