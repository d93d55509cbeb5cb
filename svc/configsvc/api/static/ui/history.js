// History: a configuration's versions (diff any two, restore one), and an application's
// rollback to a past revision with a preview of what it would change.

import * as api from "./api.js";
import * as live from "./live.js";
import { h, fill, flash, when, toast, problemText } from "./dom.js";
import { diffView } from "./diff.js";
import { pretty } from "./json.js";

const who = (v) => (v.actor ? v.actor.name : "—");

function reasonForm(label, buttonText, onSubmit) {
  const id = `reason-${Math.random().toString(36).slice(2)}`;
  const reason = h("input", { id, required: true, maxlength: 1024 });
  const note = h("p", { class: "error", role: "alert" });
  const form = h("form", { class: "inline-form", onsubmit: async (event) => {
    event.preventDefault();
    try { await onSubmit(reason.value.trim()); } catch (error) { note.textContent = problemText(error); }
  } }, h("label", { for: id }, label), reason, h("button", { type: "submit" }, buttonText), note);
  setTimeout(() => reason.focus());
  return form;
}

/** A configuration's versions, newest first. */
export async function history(view, ctx, id) {
  const body = h("tbody");
  const compared = h("div", { id: "compared", "aria-live": "polite" });
  const action = h("div", { id: "restore-panel" });
  let config;
  let versions = [];
  const compare = async () => {
    const from = body.querySelector("input[name=from]:checked")?.value;
    const to = body.querySelector("input[name=to]:checked")?.value;
    if (!from || !to) return;
    const [a, b] = await Promise.all([from, to].map((n) => api.get(`/configurations/${id}/versions/${n}`)));
    fill(compared, diffView(a.config, b.config, `version ${from}`, `version ${to}`));
  };
  const restore = (version) => fill(action, h("section", { class: "card" },
    h("h2", {}, `Restore version ${version}`),
    h("p", {}, "This makes a new version with the content of that one."),
    reasonForm("Reason for restoring", `Restore version ${version}`, async (reason) => {
      const { data } = await api.call("POST", `/configurations/${id}/rollback`, {
        body: { to_version: version }, reason, ifMatch: config.version,
      });
      fill(action);
      toast(`Restored: now version ${data.version}`);
      await draw();
    })));
  const draw = async () => {
    config = await api.get(`/configurations/${id}`).catch(() => null);
    versions = await api.all(`/configurations/${id}/versions`, {}, 500);
    fill(body, versions.map((v, index) => h("tr", { "data-version": v.version },
      h("th", { scope: "row", class: "num" }, String(v.version)),
      h("td", {}, v.op), h("td", {}, who(v)), h("td", {}, v.reason || "—"), h("td", {}, when(v.committed_at)),
      h("td", {}, h("input", { type: "radio", name: "from", value: v.version, "aria-label": `Compare from version ${v.version}`, checked: index === 1 || (versions.length === 1 && index === 0), onchange: compare })),
      h("td", {}, h("input", { type: "radio", name: "to", value: v.version, "aria-label": `Compare to version ${v.version}`, checked: index === 0, onchange: compare })),
      h("td", {}, index === 0 && v.op !== "deleted" ? h("span", { class: "muted" }, "current")
        : h("button", { type: "button", class: "secondary", onclick: () => restore(v.version) }, `Restore v${v.version}`)))));
    await compare();
  };
  await draw();
  const first = versions[versions.length - 1];
  const appId = config ? config.application_id : null;
  const app = appId ? await api.get(`/applications/${appId}`).catch(() => null) : null;
  view.prepend(
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Search"), " / ",
      app ? [h("a", { href: `#/app/${app.id}` }, app.name), " / "] : "",
      h("a", { href: `#/config/${id}` }, first ? first.name : id), " / history"),
    h("h1", {}, `History of ${config ? config.name : first?.name || id}`));
  view.append(
    h("table", { class: "versions" }, h("thead", {}, h("tr", {}, ["Version", "Change", "Who", "Reason", "When", "From", "To", ""].map((c) => h("th", { scope: "col" }, c)))), body),
    h("h2", {}, "Difference"), compared, action);
  if (appId) {
    ctx.onLeave(live.follow(appId, async (message) => {
      const ids = [message.configuration?.id, ...(message.configurations || []).map((c) => c.id), ...(message.deleted || [])];
      if (message.type === "change" && ids.includes(id)) { await draw(); flash(body.firstElementChild); }
    }));
  }
}

/** Every configuration of the application as it was at `revision` (id -> configuration). */
async function stateAt(appId, revision) {
  const page = await api.get(`/applications/${appId}/configurations`, { at_revision: revision });
  return new Map(page.items.map((c) => [c.id, c]));
}

/** The application's changes (from its configurations' versions), and rollback with preview. */
export async function applicationHistory(view, ctx, id) {
  const app = await api.get(`/applications/${id}`);
  const configs = await api.all(`/applications/${id}/configurations`, {}, 200);
  const changes = [];
  for (const config of configs) {
    for (const v of (await api.get(`/configurations/${config.id}/versions`, { limit: 50 })).items) changes.push(v);
  }
  changes.sort((a, b) => b.revision - a.revision);
  const preview = h("div", { id: "preview", "aria-live": "polite" });
  const revision = h("input", { id: "revision", type: "number", min: 0, inputmode: "numeric" });
  const show = async (target) => {
    revision.value = target;
    const [now, then] = await Promise.all([api.all(`/applications/${id}/configurations`, {}, 200), stateAt(id, target)]);
    const current = new Map(now.map((c) => [c.id, c]));
    const items = [];
    for (const [key, before] of then) {
      const after = current.get(key);
      if (!after) items.push(h("li", {}, h("strong", {}, before.name), " would be restored", diffView("", pretty(before.config), "(deleted)", "restored")));
      else if (pretty(after.config) !== pretty(before.config) || after.name !== before.name) items.push(h("li", {}, h("strong", {}, after.name), " would go back", diffView(after.config, before.config, "now", `at revision ${target}`)));
    }
    for (const [key, after] of current) if (!then.has(key)) items.push(h("li", {}, h("strong", {}, after.name), " would be deleted (created later)"));
    fill(preview, h("section", { class: "card" },
      h("h2", {}, `Preview: back to revision ${target}`),
      items.length ? h("ul", { class: "preview-list" }, items) : h("p", {}, "Nothing would change."),
      items.length ? reasonForm("Reason for the rollback", `Roll back to revision ${target}`, async (reason) => {
        const { data } = await api.call("POST", `/applications/${id}/rollback`, { body: { to_revision: Number(target) }, reason });
        toast(`Rolled back: revision ${data.revision}`);
        location.hash = `#/app/${id}`;
      }) : null));
  };
  fill(view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Search"), " / ", h("a", { href: `#/app/${id}` }, app.name), " / history"),
    h("h1", {}, `History of ${app.name}`),
    h("form", { class: "inline-form", onsubmit: (e) => { e.preventDefault(); show(revision.value).catch((err) => fill(preview, h("p", { class: "error" }, problemText(err)))); } },
      h("label", { for: "revision" }, "Roll back to revision"), revision, h("button", { type: "submit" }, "Preview")),
    preview,
    h("h2", {}, "Changes"),
    h("table", {}, h("thead", {}, h("tr", {}, ["Revision", "Configuration", "Change", "Who", "Reason", "When", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, changes.map((v) => h("tr", {},
        h("th", { scope: "row", class: "num" }, String(v.revision)), h("td", {}, v.name), h("td", {}, `${v.op} (v${v.version})`),
        h("td", {}, who(v)), h("td", {}, v.reason || "—"), h("td", {}, when(v.committed_at)),
        h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => show(v.revision) }, `Preview rollback to r${v.revision}`)))))));
}
