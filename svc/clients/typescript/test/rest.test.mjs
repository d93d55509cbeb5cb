// Every REST operation, called once at least, against the real server: results are the REST
// JSON, errors are ConfigsvcError with the problem's fields, ETags and pagination work.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client, ConfigsvcError, OPERATIONS, etagOf } from "../dist/index.js";
import { URL_, admin, unique } from "./harness.mjs";

const called = new Set();
const client = admin();
// Record each operation called, so the last test can say which were missed.
for (const name of Object.keys(OPERATIONS)) {
  const original = client[name].bind(client);
  client[name] = (...args) => {
    called.add(name);
    return original(...args);
  };
}

async function rejects(promise, status) {
  const error = await promise.then(() => assert.fail("expected an error"), (e) => e);
  assert.ok(error instanceof ConfigsvcError, String(error));
  assert.equal(error.status, status, error.message);
  return error;
}

test("applications: create, read with its ETag, list, page through, replace, delete", async () => {
  const prefix = unique("app");
  const dry = await client.createApplication({ name: `${prefix}-0` }, { dryRun: true });
  assert.equal(dry.status, 201);
  const apps = [];
  for (const n of [0, 1, 2]) apps.push(await client.createApplication({ name: `${prefix}-${n}` }));
  const read = await client.getApplication(apps[0].id);
  assert.equal(read.name, `${prefix}-0`);
  assert.match(etagOf(read), /^"?\w/);
  const page = await client.listApplications({ name: `${prefix}-1` });
  assert.deepEqual(page.items.map((a) => a.id), [apps[1].id]);
  const seen = [];
  for await (const app of client.paginate((cursor) => client.listApplications({ limit: 1, cursor }))) {
    if (app.name.startsWith(prefix)) seen.push(app.id);
  }
  assert.deepEqual(seen.sort(), apps.map((a) => a.id).sort());
  const renamed = await client.replaceApplication(apps[0].id, { name: `${prefix}-x`, comments: "c" }, { ifMatch: etagOf(read), changeReason: "rename" });
  assert.equal(renamed.name, `${prefix}-x`);
  const stale = await rejects(client.replaceApplication(apps[0].id, { name: `${prefix}-y` }, { ifMatch: etagOf(read) }), 412);
  assert.equal(typeof stale.type, "string");
  assert.equal((await client.deleteApplication(apps[2].id, { dryRun: true })).valid, true);
  assert.equal(await client.deleteApplication(apps[2].id), undefined);
  await rejects(client.getApplication(apps[2].id), 404);
});

test("configurations, their versions, diff, rollbacks and the fleet", async () => {
  const app = await client.createApplication({ name: unique("cfg") });
  const cfg = await client.createConfiguration({ application_id: app.id, name: "limits", config: { rate: 1 } });
  assert.deepEqual(cfg.config, { rate: 1 });
  const dry = await client.createConfiguration({ application_id: app.id, name: "x", config: {} }, { dryRun: true });
  assert.equal(dry.would_be_version, 1);
  const read = await client.getConfiguration(cfg.id);
  const v2 = await client.replaceConfiguration(cfg.id, { name: "limits", config: { rate: 2 } }, { ifMatch: etagOf(read) });
  assert.equal(v2.version, 2);
  assert.deepEqual((await client.listConfigurations(app.id)).items.map((c) => c.name), ["limits"]);
  assert.equal((await client.listConfigurationVersions(cfg.id)).items.length, 2);
  assert.deepEqual((await client.getConfigurationVersion(cfg.id, 1)).config, { rate: 1 });
  const diff = await client.diffConfiguration(cfg.id, { from: 1, to: 2 });
  assert.ok(JSON.stringify(diff).includes("rate"));
  const back = await client.rollbackConfiguration(cfg.id, { to_version: 1 });
  assert.deepEqual(back.config, { rate: 1 });
  const history = await client.listApplicationVersions(app.id);
  assert.ok(history.items.length >= 1);
  const whole = await client.rollbackApplication(app.id, { to_revision: v2.revision });
  assert.equal(typeof whole, "object");
  assert.deepEqual((await client.getConfiguration(cfg.id)).config, { rate: 2 });
  assert.ok(Array.isArray((await client.listClients(app.id)).items ?? (await client.listClients(app.id))));
  assert.equal(typeof (await client.clientsSummary(cfg.id)), "object");
  assert.ok((await client.listAudit({ application_id: app.id })).items.length >= 3);
  assert.equal(await client.deleteConfiguration(cfg.id, { changeReason: "done" }), undefined);
});

test("schemas, search and typed validation errors", async () => {
  const app = await client.createApplication({ name: unique("sch") });
  const cfg = await client.createConfiguration({ application_id: app.id, name: "limits", config: { rate: 1 } });
  const schema = { type: "object", properties: { rate: { type: "integer", maximum: 10 } } };
  await client.putSchema(app.id, "limits", schema);
  assert.ok(await client.getSchema(app.id, "limits"));
  assert.equal((await client.listSchemas(app.id)).items.length, 1);
  assert.equal((await client.listSchemaVersions(app.id, "limits")).items.length, 1);
  const error = await rejects(client.replaceConfiguration(cfg.id, { name: "limits", config: { rate: 99 } }), 422);
  assert.equal(error.type, "urn:configsvc:problem:schema");
  assert.equal(error.errors[0].field, "config/rate");
  assert.equal(error.errors[0].keyword, "maximum");
  const preview = await client.replaceConfiguration(cfg.id, { name: "limits", config: { rate: 99 } }, { dryRun: true });
  assert.equal(preview.valid, false);
  const hits = await client.searchEverything({ q: app.name });
  assert.ok(hits.items.length >= 1);
  assert.equal(await client.deleteSchema(app.id, "limits"), undefined);
  await rejects(client.getApplication("not-an-id"), 404);
});

test("tokens and sessions; a bad token is a 401 ConfigsvcError without the secret", async () => {
  const app = await client.createApplication({ name: unique("tok") });
  const made = await client.createToken({ name: unique("reader"), grants: [{ application_id: app.id, access: "read" }] });
  assert.ok(made.token);
  assert.ok((await client.listTokens()).items.some((t) => t.id === made.id));
  assert.equal((await client.getToken(made.id)).id, made.id);
  const reader = new Client({ url: URL_, token: made.token });
  assert.equal((await reader.getOwnToken()).id, made.id);
  assert.equal((await client.getOwnToken()).admin, true);
  await rejects(reader.createApplication({ name: unique("no") }), 403);
  const renamed = await client.replaceToken(made.id, { name: unique("renamed"), grants: [] });
  assert.ok(renamed.name.startsWith("renamed"));
  const session = await client.signIn({ token: made.token });
  assert.ok(session);
  await rejects(client.getSession(), 404); // a bearer request carries no session cookie
  await rejects(client.signOut(), 404);
  assert.equal(await client.deleteToken(made.id), undefined);
  const refused = await rejects(reader.getOwnToken(), 401);
  assert.ok(!refused.message.includes(made.token) && !JSON.stringify(refused.problem).includes(made.token));
});

test("rollouts: a dry run, start, read, list, promote, and 409 once it has ended", async () => {
  const app = await client.createApplication({ name: unique("roll") });
  const cfg = await client.createConfiguration({ application_id: app.id, name: "limits", config: { rate: 1 } });
  const tag = etagOf(await client.getConfiguration(cfg.id));
  const body = { config: { rate: 2 }, reason: "try 2", steps: [{ percent: 50, hold_s: 3600 }, { percent: 100, hold_s: 3600 }], abort_on: { rejected: 1 } };
  const dry = await client.startRollout(cfg.id, body, { ifMatch: tag, dryRun: true });
  assert.equal(dry.status, 201);
  assert.equal(dry.reach, 0);
  const made = await client.startRollout(cfg.id, body, { ifMatch: tag });
  assert.equal(made.state, "running");
  assert.equal((await client.getRollout(cfg.id, made.id)).percent, 50);
  assert.deepEqual((await client.listRollouts(cfg.id)).items.map((r) => r.id), [made.id]);
  assert.equal((await client.promoteRollout(cfg.id, made.id, { reason: "next" })).step, 1);
  assert.equal((await client.promoteRollout(cfg.id, made.id, { reason: "ship" })).state, "promoted");
  assert.deepEqual((await client.getConfiguration(cfg.id)).config, { rate: 2 });
  const ended = await rejects(client.abortRollout(cfg.id, made.id, { reason: "late" }), 409);
  assert.match(ended.detail, /ended/);
});

test("every operation of the OpenAPI document was called", () => {
  const missed = Object.keys(OPERATIONS).filter((name) => !called.has(name));
  assert.deepEqual(missed, []);
});
