// Administrators' pages: the audit trail (filterable) and tokens (create, grants, revoke).

import * as api from "./api.js";
import { h, fill, flash, when, toast, problemText } from "./dom.js";

const ACTIONS = ["application.create", "application.update", "application.delete", "application.rollback",
  "configuration.create", "configuration.update", "configuration.delete", "configuration.restore",
  "configuration.rollback", "token.create", "token.replace", "token.revoke", "token.bootstrap",
  "session.create", "session.delete"];

function field(id, label, input) {
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input);
}

function notAdmin(view, ctx) {
  if (ctx.admin) return false;
  fill(view, h("h1", {}, "Administrators only"), h("p", {}, "This page needs an admin token."));
  return true;
}

/** The audit trail, newest first, with its filters. */
export async function audit(view, ctx) {
  if (notAdmin(view, ctx)) return;
  const inputs = {
    actor: h("input", { maxlength: 256 }),
    application_id: h("input", { maxlength: 26, pattern: "[0-9A-Z]{26}" }),
    action: h("select", {}, h("option", { value: "" }, "any"), ACTIONS.map((a) => h("option", { value: a }, a))),
    outcome: h("select", {}, ["", "ok", "denied", "invalid"].map((o) => h("option", { value: o }, o || "any"))),
    since: h("input", { type: "datetime-local" }),
    until: h("input", { type: "datetime-local" }),
  };
  const body = h("tbody");
  const note = h("p", { class: "error", role: "alert" });
  const more = h("button", { type: "button", class: "more", hidden: true }, "Older entries");
  let cursor = null;
  const query = () => {
    const q = {};
    for (const [key, input] of Object.entries(inputs)) {
      if (!input.value) continue;
      q[key] = input.type === "datetime-local" ? new Date(input.value).toISOString() : input.value.trim();
    }
    return q;
  };
  const load = async (append) => {
    try {
      const page = await api.get("/audit", { ...query(), limit: 50, cursor: append ? cursor : undefined });
      const rows = page.items.map((e) => h("tr", { class: e.outcome === "ok" ? "" : "refused" },
        h("td", {}, when(e.at)), h("td", {}, e.actor ? e.actor.name : "—"), h("td", {}, e.action),
        h("td", {}, `${e.target.kind} ${e.target.id || ""}`), h("td", {}, e.outcome),
        h("td", {}, e.reason || e.detail || "—"), h("td", {}, e.remote_addr || "—")));
      if (append) body.append(...rows); else fill(body, rows);
      cursor = page.next_cursor;
      more.hidden = !cursor;
      note.textContent = "";
    } catch (error) { note.textContent = problemText(error); }
  };
  more.addEventListener("click", () => load(true));
  fill(view, h("h1", {}, "Audit trail"),
    h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); load(false); } },
      field("f-actor", "Actor (id or name)", inputs.actor), field("f-app", "Application id", inputs.application_id),
      field("f-action", "Action", inputs.action), field("f-outcome", "Outcome", inputs.outcome),
      field("f-since", "Since", inputs.since), field("f-until", "Until", inputs.until),
      h("button", { type: "submit" }, "Filter")),
    note,
    h("table", { class: "audit" }, h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Target", "Outcome", "Reason / detail", "From"].map((c) => h("th", { scope: "col" }, c)))), body),
    more);
  await load(false);
}

function grantsText(grants) {
  return grants.length ? grants.map((g) => `${g.application_id === "*" ? "every application" : g.application_id}: ${g.access}`).join(", ") : "none";
}

/** Tokens: the list, a form to create one (its secret shown once), revoke. */
export async function tokens(view, ctx) {
  if (notAdmin(view, ctx)) return;
  const apps = await api.all("/applications", {}, 500);
  const body = h("tbody");
  const secretPanel = h("div", { id: "secret-panel", "aria-live": "polite" });
  const grantRows = h("ul", { class: "grants" });
  const addGrant = () => {
    const n = grantRows.children.length;
    const app = h("select", { id: `grant-app-${n}` }, h("option", { value: "*" }, "every application"),
      apps.map((a) => h("option", { value: a.id }, a.name)));
    const access = h("select", { id: `grant-access-${n}` }, ["read", "write"].map((a) => h("option", { value: a }, a)));
    const row = h("li", { class: "row" }, h("label", { for: app.id }, "Application"), app,
      h("label", { for: access.id }, "Access"), access,
      h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, "Remove grant"));
    grantRows.append(row);
  };
  const name = h("input", { required: true, maxlength: 256 });
  const admin = h("input", { type: "checkbox" });
  const expires = h("input", { type: "datetime-local" });
  const note = h("p", { class: "error", role: "alert" });
  const draw = async () => {
    const list = await api.all("/tokens", {}, 2000);
    fill(body, list.map((t) => h("tr", { "data-id": t.id },
      h("th", { scope: "row" }, t.name), h("td", {}, t.admin ? "admin" : grantsText(t.grants)),
      h("td", {}, t.expires_at ? when(t.expires_at) : "never"), h("td", {}, when(t.last_used_at)),
      h("td", {}, t.id === ctx.session.token.id ? h("span", { class: "muted" }, "this session")
        : h("button", { type: "button", class: "danger", onclick: () => revoke(t) }, `Revoke ${t.name}`)))));
  };
  const revoke = async (token) => {
    if (!window.confirm(`Revoke the token “${token.name}”? Everything using it stops at once.`)) return;
    await api.call("DELETE", `/tokens/${token.id}`);
    toast(`Revoked ${token.name}`);
    await draw();
  };
  const create = async (event) => {
    event.preventDefault();
    const grants = [...grantRows.children].map((row) => {
      const [app, access] = row.querySelectorAll("select");
      return { application_id: app.value, access: access.value };
    });
    const fields = { name: name.value, admin: admin.checked, grants };
    if (expires.value) fields.expires_at = new Date(expires.value).toISOString();
    try {
      const { data } = await api.call("POST", "/tokens", { body: fields });
      note.textContent = "";
      showSecret(data);
      name.value = "";
      fill(grantRows);
      await draw();
      flash(body.querySelector(`[data-id="${data.id}"]`));
    } catch (error) { note.textContent = problemText(error); }
  };
  const showSecret = (created) => {
    const secret = h("input", { id: "new-secret", readonly: true, value: created.token, class: "secret" });
    const copied = h("span", { role: "status" });
    fill(secretPanel, h("section", { class: "card secret-card" },
      h("h2", {}, `Token “${created.name}” created`),
      h("p", {}, h("strong", {}, "Copy its secret now: it is shown this once and never again.")),
      h("label", { for: "new-secret" }, "Secret"),
      h("div", { class: "row" }, secret,
        h("button", { type: "button", id: "copy-secret", onclick: async () => {
          secret.select();
          try { await navigator.clipboard.writeText(created.token); copied.textContent = "Copied"; }
          catch { copied.textContent = "Press Ctrl+C to copy the selected secret"; }
        } }, "Copy"), copied),
      h("button", { type: "button", class: "secondary", onclick: () => fill(secretPanel) }, "Done, hide it")));
    secret.focus();
    secret.select();
  };
  fill(view, h("h1", {}, "Tokens"), secretPanel,
    h("details", { class: "card", open: true }, h("summary", {}, "New token"),
      h("form", { onsubmit: create },
        field("token-name", "Name", name),
        h("div", { class: "field check" }, admin, h("label", { for: "token-admin" }, "Administrator (may do everything)")),
        h("fieldset", {}, h("legend", {}, "Grants"), grantRows,
          h("button", { type: "button", class: "secondary", onclick: addGrant }, "Add a grant")),
        field("token-expires", "Expires (optional)", expires),
        note, h("button", { type: "submit" }, "Create token"))),
    h("table", {}, h("thead", {}, h("tr", {}, ["Name", "Access", "Expires", "Last used", ""].map((c) => h("th", { scope: "col" }, c)))), body));
  admin.id = "token-admin";
  await draw();
}
