// What the Node tests share: the server's address, the admin client, the control server of
// typescript_test.py (which owns the server process), and waiting with a deadline.
import { Client } from "../dist/index.js";

export const URL_ = process.env.CONFIGSVC_URL;
export const ADMIN = process.env.CONFIGSVC_ADMIN_TOKEN;
const CONTROL = process.env.CONFIGSVC_CONTROL;
if (!URL_ || !ADMIN) throw new Error("run by typescript_test.py: CONFIGSVC_URL and CONFIGSVC_ADMIN_TOKEN");

export const admin = () => new Client({ url: URL_, token: ADMIN });
export const QUICK = { baseMs: 50, capMs: 500 };
export const PATIENCE_MS = 20_000;

/** Ask the test that owns the server to do something to it (kill-workers, stop, start, prune). */
export async function control(action, body = {}) {
  const response = await fetch(`${CONTROL}/${action}`, { method: "POST", body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`control ${action}: ${response.status}`);
  return response.json();
}

export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** Resolves with `probe()` once it is truthy; rejects after `ms`, naming `what` (or what it returns). */
export async function until(probe, ms = PATIENCE_MS, what = "condition") {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === "function" ? what() : what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The next `count` events of an async iterator, within the patience. */
export async function take(iterator, count) {
  const got = [];
  const timer = setTimeout(() => iterator.return?.(), PATIENCE_MS);
  try {
    while (got.length < count) {
      const next = await iterator.next();
      if (next.done) break;
      got.push(next.value);
    }
  } finally {
    clearTimeout(timer);
  }
  if (got.length < count) throw new Error(`got ${got.length} of ${count} events: ${JSON.stringify(got)}`);
  return got;
}
