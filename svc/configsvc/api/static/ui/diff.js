// Line diffs of pretty-printed JSON (longest common subsequence), shown as a table.

import { h } from "./dom.js";
import { pretty } from "./json.js";

const MAX_CELLS = 4_000_000; // past that, show both sides whole instead of a diff

/** [{kind: "same" | "del" | "add", text}] taking `a` to `b` (arrays of lines). */
export function lineDiff(a, b) {
  if (a.length * b.length > MAX_CELLS) {
    return [...a.map((text) => ({ kind: "del", text })), ...b.map((text) => ({ kind: "add", text }))];
  }
  const rows = a.length + 1;
  const cols = b.length + 1;
  const lcs = new Uint32Array(rows * cols);
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i * cols + j] = a[i] === b[j] ? lcs[(i + 1) * cols + j + 1] + 1
        : Math.max(lcs[(i + 1) * cols + j], lcs[i * cols + j + 1]);
    }
  }
  const out = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) { out.push({ kind: "same", text: a[i] }); i++; j++; }
    else if (lcs[(i + 1) * cols + j] >= lcs[i * cols + j + 1]) out.push({ kind: "del", text: a[i++] });
    else out.push({ kind: "add", text: b[j++] });
  }
  while (i < a.length) out.push({ kind: "del", text: a[i++] });
  while (j < b.length) out.push({ kind: "add", text: b[j++] });
  return out;
}

/** A diff view of two JSON values (or texts), labelled `from` and `to`. */
export function diffView(before, after, fromLabel, toLabel) {
  const text = (v) => (typeof v === "string" ? v : pretty(v));
  const lines = lineDiff(text(before).split("\n"), text(after).split("\n"));
  const changed = lines.filter((l) => l.kind !== "same").length;
  const sign = { same: " ", del: "−", add: "+" };
  return h("figure", { class: "diff" },
    h("figcaption", {}, h("span", { class: "del-label" }, `− ${fromLabel}`), " ",
      h("span", { class: "add-label" }, `+ ${toLabel}`), " ",
      changed ? `${changed} line(s) differ` : "no difference"),
    h("pre", { class: "diff-lines" }, lines.map((l) => h("span", { class: `dl dl-${l.kind}`, "data-kind": l.kind }, `${sign[l.kind]} ${l.text}\n`))));
}
