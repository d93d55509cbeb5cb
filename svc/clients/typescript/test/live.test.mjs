// The live view against the real feed: subscribe and change, the validation hook and its
// `rejected` ack as the fleet endpoint records it, resume after the workers are killed, after
// the worker holding the socket freezes (the heartbeat) or the service stops (close 1001), a
// reset after the log was pruned past `since`, and the cache file with the service down.
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Client, LiveClosed } from "../dist/index.js";
import { ADMIN, QUICK, URL_, admin, control, take, unique, until } from "./harness.mjs";

const rest = admin();

async function app(configs) {
  const made = await rest.createApplication({ name: unique("live") });
  const byName = {};
  for (const [name, config] of Object.entries(configs)) {
    byName[name] = await rest.createConfiguration({ application_id: made.id, name, config });
  }
  return { app: made, configs: byName };
}

/** A write that waits out a restarting server (its workers killed a moment ago). */
async function put(cfg, config, client = rest) {
  const failures = new Map(); // what each attempt met, counted: the timeout says why
  return until(async () => {
    try {
      return await client.replaceConfiguration(cfg.id, { name: cfg.name, config });
    } catch (error) {
      if (error.status === 409 || error.status === 422) throw error;
      const chain = [error, error.cause, error.cause?.cause].filter(Boolean);
      const why = chain.map((e) => e.status ?? e.code ?? `${e.name}: ${e.message}`).join(" <- ");
      failures.set(why, (failures.get(why) ?? 0) + 1);
      return undefined; // connection refused, 503: the server is coming back
    }
  }, 20_000, () => `a write (${[...failures].map(([why, n]) => `${n}x ${why}`).join("; ")})`);
}

test("subscribe by name: get, entries, on('change'), the iterator, changed(), close()", async () => {
  const { app: made, configs } = await app({ limits: { rate: 1 }, flags: { dark: false } });
  const live = await rest.live(made.name, { backoff: QUICK });
  try {
    assert.deepEqual(live.get("limits"), { rate: 1 });
    assert.deepEqual(live.entries(), [["flags", { dark: false }], ["limits", { rate: 1 }]]);
    assert.equal(live.stale, false);
    const heard = [];
    live.on("change", (event) => heard.push(event));
    const events = live[Symbol.asyncIterator]();
    const changed = live.changed();
    await rest.replaceConfiguration(configs.limits.id, { name: "limits", config: { rate: 2 } });
    await changed;
    assert.deepEqual(live.get("limits"), { rate: 2 });
    const [event] = await take(events, 1);
    assert.deepEqual({ ...event, revision: 0 }, { name: "limits", old: { rate: 1 }, new: { rate: 2 }, revision: 0, op: "updated" });
    assert.deepEqual(heard, [event]);
    await rest.deleteConfiguration(configs.flags.id);
    const [gone] = await take(events, 1);
    assert.equal(gone.op, "deleted");
    assert.equal(live.get("flags"), undefined);
  } finally {
    await live.close();
  }
  await assert.rejects(live.changed(), LiveClosed);
  await assert.rejects(rest.live(unique("nosuch"), { startTimeoutMs: 10_000 }), (e) => e.status === 404);
});

test("a validate hook that throws keeps the last good value and acks `rejected` with its message", async () => {
  const { app: made, configs } = await app({ limits: { rate: 1 } });
  const clientId = unique("probe");
  const validate = (name, value) => {
    if (value.rate > 100) throw new RangeError(`rate ${value.rate} is over 100`);
  };
  const live = await rest.live(made.id, { clientId, labels: { service: "ts-test" }, validate, backoff: QUICK });
  try {
    const rejected = new Promise((resolve) => live.on("rejected", resolve));
    const bad = await rest.replaceConfiguration(configs.limits.id, { name: "limits", config: { rate: 500 } });
    const rejection = await rejected;
    assert.equal(rejection.reason, "RangeError: rate 500 is over 100");
    assert.deepEqual(live.get("limits"), { rate: 1 }, "the last good value stays");
    const fleet = await until(async () => {
      const { items } = await rest.listClients(made.id);
      const me = items.find((c) => c.client_id === clientId);
      return me?.rejections.length ? me : undefined;
    }, 20_000, "the server to record the rejection");
    assert.equal(fleet.labels.service, "ts-test");
    assert.ok(fleet.sdk.startsWith("configsvc-client"));
    assert.deepEqual(
      fleet.rejections.map((r) => [r.configuration_id, r.version, r.reason]),
      [[bad.id, bad.version, "RangeError: rate 500 is over 100"]],
    );
    await rest.replaceConfiguration(configs.limits.id, { name: "limits", config: { rate: 7 } });
    await until(() => live.get("limits")?.rate === 7, 20_000, "a good value after a bad one");
    const summary = await rest.clientsSummary(configs.limits.id);
    assert.equal(typeof summary.versions, "object");
  } finally {
    await live.close();
  }
});

test("killing every worker mid-stream: the view resumes with since, missing and repeating nothing", async () => {
  const { app: made, configs } = await app({ counter: { n: 0 } });
  const live = await rest.live(made.name, { backoff: QUICK });
  try {
    const events = live[Symbol.asyncIterator]();
    await put(configs.counter, { n: 1 });
    const killed = await control("kill-workers");
    assert.equal(killed.length, 2);
    for (let n = 2; n <= 6; n += 1) await put(configs.counter, { n });
    const got = await take(events, 6);
    assert.deepEqual(got.map((e) => e.new.n), [1, 2, 3, 4, 5, 6], JSON.stringify(got));
    const revisions = got.map((e) => e.revision);
    assert.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
    assert.ok(live.stale === false || (await until(() => !live.stale)));
    assert.deepEqual(live.get("counter"), { n: 6 });
  } finally {
    await live.close();
  }
});

const NATIVE = globalThis.WebSocket !== undefined; // Node 22+: no ws, so no client pings

test("the worker holding the socket freezes (SIGSTOP): the heartbeat drops it and the view resumes on the other", { skip: NATIVE && "a standard WebSocket cannot ping" }, async (t) => {
  const { app: made, configs } = await app({ counter: { n: 0 } });
  const clientId = unique("frozen");
  const live = await rest.live(made.id, { clientId, heartbeatMs: 500, backoff: QUICK });
  // Its own short timeout: a kept-alive REST connection to the frozen worker never answers.
  const writer = new Client({ url: URL_, token: ADMIN, timeoutMs: 2_000 });
  const holding = () => writer.listClients(made.id).then(
    ({ items }) => items.filter((c) => c.client_id === clientId && c.connected),
    () => [], // it went to the frozen worker: ask again
  );
  let frozen;
  try {
    const seat = await until(async () => (await holding())[0], 20_000, "the fleet to show the view's socket");
    frozen = await control("freeze", { worker: seat.worker }); // its socket stays open, silent
    const since = Date.now();
    await put(configs.counter, { n: 1 }, writer); // served by the other worker
    await until(() => live.get("counter")?.n === 1, 10_000, "the change, after the heartbeat gave up on the frozen worker");
    t.diagnostic(`the change arrived ${Date.now() - since} ms after the freeze`);
    assert.ok(live.stale === false || (await until(() => !live.stale, 10_000, "the view to sync again")));
    const now = await until(async () => (await holding()).find((c) => c.worker !== seat.worker), 20_000, "the fleet to show the new socket");
    assert.notEqual(Number(now.worker.split(":").pop()), frozen);
  } finally {
    await control("thaw");
    await live.close();
  }
});

test("close 1001 (the service shutting down): the view goes stale, then resumes once it is back", async () => {
  const { app: made, configs } = await app({ counter: { n: 0 } });
  const live = await rest.live(made.name, { backoff: QUICK });
  try {
    const events = live[Symbol.asyncIterator]();
    await control("stop"); // a graceful stop: its workers close every socket with 1001
    await until(() => live.stale, 5_000, "the view to notice the close");
    assert.deepEqual(live.get("counter"), { n: 0 }, "the last value stays while away");
    await control("start");
    await put(configs.counter, { n: 1 });
    const [event] = await take(events, 1);
    assert.deepEqual([event.name, event.old, event.new, event.op], ["counter", { n: 0 }, { n: 1 }, "updated"]);
    await until(() => !live.stale, 20_000, "the view to sync again");
  } finally {
    await live.close();
  }
});

test("a since older than the retained log is answered with a reset snapshot, applied", async () => {
  const { app: made, configs } = await app({ kept: { v: 1 } });
  const live = await rest.live(made.name, { backoff: QUICK });
  try {
    const events = live[Symbol.asyncIterator]();
    const before = live.revision;
    await control("prune", { id: configs.kept.id, config: { v: 2 } });
    const [event] = await take(events, 1);
    assert.deepEqual([event.name, event.old, event.new, event.op], ["kept", { v: 1 }, { v: 2 }, "snapshot"]);
    assert.deepEqual(live.get("kept"), { v: 2 });
    assert.ok(live.revision >= before + 2);
  } finally {
    await live.close();
  }
});

test("with the service down, a cached view loads from the file, then catches up", async () => {
  const { app: made, configs } = await app({ limits: { rate: 3 } });
  const cachePath = join(await mkdtemp(join(tmpdir(), "configsvc-ts-")), "billing.cache.json");
  const first = await rest.live(made.name, { cachePath, backoff: QUICK });
  await first.close();
  const cached = JSON.parse(await readFile(cachePath, "utf8"));
  assert.equal(cached.application_id, made.id);
  await control("stop");
  let live;
  try {
    live = await rest.live(made.name, { cachePath, backoff: QUICK, startTimeoutMs: 5_000 });
    assert.equal(live.stale, true);
    assert.deepEqual(live.get("limits"), { rate: 3 });
  } finally {
    await control("start");
  }
  try {
    await until(() => !live.stale, 20_000, "the view to sync again");
    await put(configs.limits, { rate: 4 });
    await until(() => live.get("limits")?.rate === 4, 20_000, "the change after the restart");
  } finally {
    await live.close();
  }
  assert.equal(JSON.parse(await readFile(cachePath, "utf8")).configurations[0].config.rate, 4);
});
