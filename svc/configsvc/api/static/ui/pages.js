// Search, an application (its configurations, live), and its clients.

import * as api from "./api.js";
import * as live from "./live.js";
import { h, fill, flash, when, toast, problemText, debounce } from "./dom.js";
import { JsonEditor } from "./editor.js";
import { issuesOf } from "./edit.js";

const WHERE = { application_name: "application name", configuration_name: "configuration name", key: "key", value: "value" };

function marked(text, query) {
  const at = text.toLowerCase().indexOf(query.toLowerCase());
  if (at < 0 || !query) return text;
  return [text.slice(0, at), h("mark", {}, text.slice(at, at + query.length)), text.slice(at + query.length)];
}

function hitView(hit, query) {
  const href = hit.kind === "application" ? `#/app/${hit.application_id}` : `#/config/${hit.id}`;
  const title = hit.kind === "application" ? hit.application_name : `${hit.application_name} / ${hit.configuration_name}`;
  return h("li", { class: "hit" },
    h("a", { href }, title), " ", h("span", { class: "tag" }, hit.kind),
    h("ul", { class: "matches" }, hit.matches.map((m) => h("li", {},
      h("span", { class: "where" }, WHERE[m.where]), " ",
      m.path ? h("code", {}, m.path) : null, m.path ? " " : null,
      h("span", { class: "text" }, marked(m.text, query))))),
    hit.match_count > hit.matches.length ? h("p", { class: "hint" }, `and ${hit.match_count - hit.matches.length} more`) : null);
}

/** The search box, the list of applications, and a form to create one. */
export async function search(view, ctx) {
  const input = h("input", { id: "q", type: "search", autocomplete: "off", placeholder: "name, key or value" });
  const results = h("div", { id: "results", "aria-live": "polite" });
  let generation = 0;
  const run = async (cursor) => {
    const query = input.value.trim();
    const mine = ++generation;
    if (!query) { fill(results); return; }
    const page = await api.get("/search", { q: query, limit: 20, cursor });
    if (mine !== generation) return;
    const list = cursor ? results.querySelector("ol") : h("ol", { class: "hits" });
    if (!cursor) fill(results, page.items.length ? list : h("p", { class: "hint" }, `Nothing matches “${query}”.`));
    list.append(...page.items.map((hit) => hitView(hit, query)));
    results.querySelector(".more")?.remove();
    if (page.next_cursor) results.append(h("button", { type: "button", class: "more", onclick: () => run(page.next_cursor) }, "More results"));
  };
  const later = debounce(() => run().catch((e) => fill(results, h("p", { class: "error" }, problemText(e)))), 250);
  input.addEventListener("input", later);
  const apps = h("tbody");
  const name = h("input", { id: "new-app-name", required: true, maxlength: 256 });
  const comments = h("input", { id: "new-app-comments", maxlength: 1024 });
  const note = h("p", { class: "error", role: "alert" });
  const create = async (event) => {
    event.preventDefault();
    try {
      const { data } = await api.call("POST", "/applications", { body: { name: name.value, comments: comments.value } });
      location.hash = `#/app/${data.id}`;
    } catch (error) { note.textContent = problemText(error); }
  };
  fill(view,
    h("h1", {}, "Search"),
    h("form", { role: "search", onsubmit: (e) => { e.preventDefault(); run(); } },
      h("label", { for: "q" }, "Search application names, configuration names, keys and values"),
      h("div", { class: "row" }, input, h("button", { type: "submit" }, "Search"))),
    results,
    h("h2", {}, "Applications"),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Comments"), h("th", {}, "Changed"))), apps),
    h("details", { class: "card" }, h("summary", {}, "New application"),
      h("form", { onsubmit: create },
        h("label", { for: "new-app-name" }, "Name"), name,
        h("label", { for: "new-app-comments" }, "Comments"), comments,
        note, h("button", { type: "submit" }, "Create application"))));
  for (const app of await api.all("/applications")) {
    apps.append(h("tr", {}, h("td", {}, h("a", { href: `#/app/${app.id}` }, app.name)), h("td", {}, app.comments), h("td", {}, when(app.updated_at))));
  }
}

async function lastChange(config) {
  const page = await api.get(`/configurations/${config.id}/versions`, { limit: 1 });
  return page.items[0];
}

async function fleet(config) {
  const summary = await api.get(`/configurations/${config.id}/clients/summary`);
  const current = summary.versions[String(config.version)] || 0;
  const all = Object.values(summary.versions).reduce((a, b) => a + b, 0);
  const rejected = Object.values(summary.rejected).reduce((a, b) => a + b, 0);
  return { current, behind: all - current, rejected, unknown: summary.unknown };
}

function schemaStatus(config) {
  const status = config.schema_status;
  if (!status) return h("span", { class: "muted" }, "—");
  return h("span", { class: `badge badge-${String(status).replace(/[^a-z]/g, "")}` }, String(status));
}

async function configRow(config) {
  const [change, clients] = await Promise.all([lastChange(config), fleet(config).catch(() => null)]);
  const who = change && change.actor ? change.actor.name : "—";
  return h("tr", { "data-id": config.id },
    h("th", { scope: "row" }, h("a", { href: `#/config/${config.id}` }, config.name)),
    h("td", { class: "num", "data-label": "Version" }, String(config.version)),
    h("td", { "data-label": "Last change" }, change ? [when(change.committed_at), " by ", who, change.reason ? [" — ", h("q", {}, change.reason)] : ""] : "—"),
    h("td", { "data-label": "Schema" }, schemaStatus(config)),
    h("td", { "data-label": "Clients", class: "clients" }, clients
      ? [h("span", { title: "running the current version" }, `${clients.current} current`), " · ",
        h("span", { title: "running an older version" }, `${clients.behind} behind`), " · ",
        h("span", { class: clients.rejected ? "bad-text" : "", title: "rejected a version" }, `${clients.rejected} rejected`)]
      : "—"));
}

/** An application: its configurations with version, last change, schema, clients; live. */
export async function application(view, ctx, id) {
  let app = await api.get(`/applications/${id}`);
  const title = h("h1", {}, app.name);
  const comments = h("p", { class: "muted" }, app.comments);
  const body = h("tbody");
  const rows = new Map();
  const upsert = async (config, highlight) => {
    const row = await configRow(config);
    const old = rows.get(config.id);
    rows.set(config.id, row);
    if (old) old.replaceWith(row); else body.append(row);
    if (highlight) flash(row);
  };
  const remove = (configId) => { rows.get(configId)?.remove(); rows.delete(configId); };
  const name = h("input", { id: "new-config-name", required: true, maxlength: 256 });
  const editor = new JsonEditor({ label: "Configuration (JSON)", text: "{\n  \n}" });
  const note = h("p", { class: "error", role: "alert" });
  const create = async (event) => {
    event.preventDefault();
    const parsed = editor.parse();
    if (!parsed.ok) { note.textContent = parsed.error.message; return; }
    try {
      await api.call("POST", "/configurations", { body: { application_id: id, name: name.value, config: parsed.value } });
      name.value = "";
      editor.text = "{\n  \n}";
      note.textContent = "";
      toast("Configuration created");
    } catch (error) {
      note.textContent = problemText(error);
      if (error.errors.length) editor.setIssues(issuesOf(error.errors));
    }
  };
  fill(view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Search"), " / ", app.name),
    title, comments,
    h("nav", { class: "tabs", "aria-label": "Application" },
      h("a", { href: `#/app/${id}/history` }, "History & rollback"),
      h("a", { href: `#/app/${id}/clients` }, "Clients"),
      h("a", { href: `#/app/${id}/schemas` }, "Schemas")),
    h("h2", {}, "Configurations"),
    h("table", { class: "configs" },
      h("thead", {}, h("tr", {}, ["Name", "Version", "Last change", "Schema", "Clients"].map((c) => h("th", { scope: "col" }, c)))),
      body),
    h("details", { class: "card", id: "new-config" }, h("summary", {}, "New configuration"),
      h("form", { onsubmit: create },
        h("label", { for: "new-config-name" }, "Name"), name, editor.node, note,
        h("button", { type: "submit" }, "Create configuration"))));
  const configs = await api.all(`/applications/${id}/configurations`, {}, 200);
  for (const config of configs) await upsert(config, false);
  const refresh = async () => { for (const config of configs) if (rows.has(config.id)) await upsert(config, false); };
  const timer = setInterval(() => refresh().catch(() => {}), 5000);
  ctx.onLeave(() => clearInterval(timer));
  ctx.onLeave(live.follow(id, async (message) => {
    if (message.type !== "change") return;
    if (message.configuration && message.op !== "deleted") {
      const known = configs.findIndex((c) => c.id === message.configuration.id);
      if (known >= 0) configs[known] = message.configuration; else configs.push(message.configuration);
      await upsert(message.configuration, true);
    } else if (message.op === "deleted") remove(message.configuration.id);
    else if (message.op === "rolled_back") {
      for (const config of message.configurations) await upsert(config, true);
      for (const gone of message.deleted) remove(gone);
    } else if (message.op === "application_updated") {
      app = message.application;
      title.textContent = app.name;
      comments.textContent = app.comments;
      flash(title);
    } else if (message.op === "application_deleted") {
      fill(view, h("h1", {}, app.name), h("p", { role: "alert" }, "This application was just deleted."));
    }
  }));
}

/** The clients view: who runs what, and what they rejected (refreshed every few seconds). */
export async function clients(view, ctx, id) {
  const app = await api.get(`/applications/${id}`);
  const body = h("tbody");
  const names = new Map();
  for (const config of await api.all(`/applications/${id}/configurations`, {}, 200)) names.set(config.id, config.name);
  const draw = async () => {
    const { items } = await api.get(`/applications/${id}/clients`);
    fill(body, items.length ? items.map((c) => h("tr", {},
      h("th", { scope: "row" }, c.client_id || "(anonymous)", h("div", { class: "muted" }, Object.entries(c.labels || {}).map(([k, v]) => `${k}=${v}`).join(" "))),
      h("td", {}, c.connected ? "connected" : ["left ", when(c.disconnected_at)]),
      h("td", { class: "num" }, c.applied_revision ?? "—"),
      h("td", { class: "num" }, c.lag ?? "—"),
      h("td", {}, c.rejections.length ? h("ul", {}, c.rejections.map((r) => h("li", { class: "bad-text" },
        `${names.get(r.configuration_id) || r.configuration_id} v${r.version}: ${r.reason}`))) : "none")))
      : h("tr", {}, h("td", { colspan: 5 }, "No client is subscribed to this application.")));
  };
  fill(view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Search"), " / ", h("a", { href: `#/app/${id}` }, app.name), " / clients"),
    h("h1", {}, `Clients of ${app.name}`),
    h("table", {}, h("thead", {}, h("tr", {}, ["Client", "State", "Applied revision", "Lag", "Rejections"].map((c) => h("th", { scope: "col" }, c)))), body));
  await draw();
  const timer = setInterval(() => draw().catch(() => {}), 3000);
  ctx.onLeave(() => clearInterval(timer));
  ctx.onLeave(live.follow(id, () => draw().catch(() => {})));
}
