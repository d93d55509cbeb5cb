// A configuration's rollouts: start one from an edit (with its diff), watch the targeted
// clients apply or reject the candidate, promote or abort it, and read why earlier ones ended.

import * as api from "./api.js";
import { h, fill, when, toast, problemText } from "./dom.js";
import { JsonEditor } from "./editor.js";
import { diffView } from "./diff.js";
import { pretty } from "./json.js";

const POLL_MS = 1000; // the fleet's counts change about once a second (live/clients.py)

/** "5:60, 50:120, 100" -> [{percent: 5, hold_s: 60}, ...]; the server checks the rest. */
export function parseSteps(text) {
  return text.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const [percent, hold] = part.split(":").map((n) => n.trim());
    const step = { percent: Number(percent) };
    if (hold !== undefined) step.hold_s = Number(hold);
    return step;
  });
}

function progress(clients) {
  const total = Math.max(clients.targeted, 1);
  const part = (kind, n) => {
    const node = h("span", { class: `seg seg-${kind}`, title: `${kind}: ${n}` });
    node.style.width = `${(100 * n) / total}%`; // CSSOM: the policy refuses style attributes
    return node;
  };
  return h("div", { class: "progress", role: "img", id: "rollout-progress",
    "aria-label": `${clients.applied} applied, ${clients.rejected} rejected, ${clients.unknown} unknown of ${clients.targeted} targeted` },
  part("applied", clients.applied), part("rejected", clients.rejected), part("unknown", clients.unknown));
}

function counts(clients) {
  return h("p", { id: "rollout-counts" },
    `${clients.targeted} targeted: ${clients.applied} applied, ${clients.rejected} rejected, ${clients.unknown} unknown`);
}

function rejections(list) {
  if (!list.length) return h("p", { class: "hint" }, "No client has rejected the candidate.");
  return h("ul", { id: "rejections" }, list.map((r) => h("li", {}, h("strong", {}, r.client_id || "a client without an id"), ": ", r.reason || "no reason given", " ", when(r.at))));
}

function summary(rollout) {
  const steps = rollout.steps.map((s, i) => h("li", { class: i === rollout.step ? "current" : "" }, `${s.percent}%`, s.hold_s ? ` for ${s.hold_s} s` : ""));
  return [
    h("p", {}, h("span", { class: `badge state-${rollout.state}`, id: "rollout-state" }, rollout.state), " ",
      `step ${rollout.step + 1} of ${rollout.steps.length}, ${rollout.percent}% of the eligible fleet`,
      Object.keys(rollout.labels).length ? ` labelled ${JSON.stringify(rollout.labels)}` : "", " — ", h("q", {}, rollout.reason)),
    h("ol", { class: "steps" }, steps),
    rollout.ended_reason ? h("p", { id: "ended-reason" }, "Ended: ", rollout.ended_reason) : null,
  ];
}

export async function rollouts(view, ctx, id) {
  const config = (await api.call("GET", `/configurations/${id}`)).data;
  const app = await api.get(`/applications/${config.application_id}`);
  const path = `/configurations/${id}/rollouts`;
  const panel = h("div", { id: "rollout-panel" });
  const past = h("div", { id: "past-rollouts" });
  let timer = null;
  ctx.onLeave(() => clearTimeout(timer));

  async function refresh() {
    clearTimeout(timer);
    const page = await api.get(path, { limit: 20 });
    const running = page.items.find((r) => r.state === "running");
    const ended = page.items.filter((r) => r !== running);
    if (running) showRunning(running); else await showStart();
    fill(past, h("h2", {}, "Earlier rollouts"), ended.length
      ? h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Started"), h("th", {}, "State"), h("th", {}, "Reason"), h("th", {}, "Ended because"))),
        h("tbody", {}, ended.map((r) => h("tr", {}, h("td", {}, when(r.created_at)),
          h("td", {}, r.state), h("td", {}, r.reason), h("td", {}, r.ended_reason || "")))))
      : h("p", { class: "hint" }, "None yet."));
  }

  function showRunning(rollout) {
    const reason = h("input", { id: "action-reason", maxlength: 1024, placeholder: "why", "aria-label": "Reason" });
    const note = h("p", { class: "error", role: "alert" });
    const act = async (action) => {
      if (!reason.value.trim()) { note.textContent = "Say why: the reason goes in the audit trail."; reason.focus(); return; }
      try {
        const { data } = await api.call("POST", `${path}/${rollout.id}/${action}`, { body: { reason: reason.value.trim() } });
        toast(action === "abort" ? "Rollout aborted" : data.state === "promoted" ? "Promoted" : `Step ${data.step + 1}`);
        await refresh();
      } catch (error) { note.textContent = problemText(error); }
    };
    fill(panel, h("section", { class: "card", "aria-labelledby": "running-title" },
      h("h2", { id: "running-title" }, "Running rollout"),
      h("div", { id: "rollout-summary" }, summary(rollout)), progress(rollout.clients), counts(rollout.clients),
      h("h3", {}, "Rejections"), h("div", { id: "rejections-box" }, rejections(rollout.rejections)),
      diffView(config.config, rollout.candidate.config, `version ${rollout.base_version}`, "candidate"),
      h("div", { class: "row" }, reason,
        h("button", { type: "button", id: "promote", onclick: () => act("promote") }, rollout.step === rollout.steps.length - 1 ? "Promote to everyone" : "Next step now"),
        h("button", { type: "button", id: "abort", class: "danger", onclick: () => act("abort") }, "Abort")),
      note));
    watch(rollout.id, panel.querySelector("section"));
  }

  /** Live progress: counts from the fleet tables, which every worker refreshes about once a
   * second. Only the figures are redrawn: the reason being typed and the buttons stay. */
  function watch(rolloutId, section) {
    timer = setTimeout(async () => {
      try {
        const now = await api.get(`${path}/${rolloutId}`);
        if (now.state !== "running") { await refresh(); return; }
        section.querySelector("#rollout-progress").replaceWith(progress(now.clients));
        section.querySelector("#rollout-counts").replaceWith(counts(now.clients));
        section.querySelector("#rejections-box").replaceChildren(rejections(now.rejections));
        section.querySelector("#rollout-summary").replaceChildren(...summary(now).filter(Boolean));
      } catch (error) { if (error.status !== 401) toast(error.message); }
      if (section.isConnected) watch(rolloutId, section);
    }, POLL_MS);
  }

  async function showStart() {
    const fresh = (await api.call("GET", `/configurations/${id}`)).data;
    const editor = new JsonEditor({ label: "Candidate (JSON)", text: pretty(fresh.config), onInput: () => preview() });
    const diff = h("div", { id: "candidate-diff" });
    const steps = h("input", { id: "steps", value: "5:60, 50:120, 100", "aria-describedby": "steps-hint" });
    const rejected = h("input", { id: "abort-on", type: "number", min: 1, value: 1 });
    const labels = h("input", { id: "labels", value: "{}", "aria-describedby": "labels-hint" });
    const reason = h("input", { id: "rollout-reason", maxlength: 1024, required: true });
    const note = h("p", { class: "error", role: "alert", id: "start-note" });
    const preview = () => {
      const parsed = editor.parse();
      fill(diff, parsed.ok ? diffView(fresh.config, parsed.value, `version ${fresh.version}`, "candidate") : h("p", { class: "error" }, "Not valid JSON"));
    };
    const start = async (event) => {
      event.preventDefault();
      const parsed = editor.parse();
      if (!parsed.ok) { note.textContent = "The candidate is not valid JSON."; return; }
      let wanted;
      try { wanted = JSON.parse(labels.value || "{}"); } catch { note.textContent = "labels: not valid JSON"; return; }
      try {
        await api.call("POST", path, {
          ifMatch: fresh.version,
          body: { config: parsed.value, reason: reason.value.trim(), steps: parseSteps(steps.value),
            abort_on: { rejected: Number(rejected.value) }, labels: wanted },
        });
        toast("Rollout started");
        await refresh();
      } catch (error) {
        note.textContent = problemText(error);
        if (error.status === 412) note.textContent += "\nThe configuration changed meanwhile: reload the page.";
      }
    };
    fill(panel, h("section", { class: "card", "aria-labelledby": "start-title" },
      h("h2", { id: "start-title" }, "Start a rollout"),
      h("p", { class: "hint" }, "The candidate reaches a share of the clients first; their rejections abort it."),
      h("form", { onsubmit: start },
        editor.node, diff,
        h("label", { for: "steps" }, "Steps"), steps,
        h("p", { class: "hint", id: "steps-hint" }, "percent:hold seconds, comma-separated; the last one 100"),
        h("label", { for: "abort-on" }, "Abort after this many rejections"), rejected,
        h("label", { for: "labels" }, "Only clients with these labels (JSON)"), labels,
        h("p", { class: "hint", id: "labels-hint" }, 'e.g. {"region": "eu"}; {} for everyone'),
        h("label", { for: "rollout-reason" }, "Reason"), reason, note,
        h("div", { class: "row" }, h("button", { type: "submit", id: "start" }, "Start rollout")))));
    preview();
  }

  fill(view,
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "Search"), " / ", h("a", { href: `#/app/${app.id}` }, app.name), " / ",
      h("a", { href: `#/config/${id}` }, config.name), " / rollouts"),
    h("h1", {}, `Rollouts of ${config.name}`), panel, past);
  await refresh();
}
