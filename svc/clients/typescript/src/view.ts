// LiveView: a read-only map, configuration name -> its JSON value, kept current by the feed
// (feed.ts). A change the validator rejects is reported and not applied, so the map keeps the
// last good value while `revision` still moves on (the change was seen and is not replayed).
import type { CacheState, Configuration } from "./cache.js";
import { Announcer } from "./announce.js";
import { LiveClosed, same } from "./events.js";
import type { AckResult, ChangeEvent, ChangeFrame, ChangeOp, Json, Rejection, SnapshotFrame, Validator } from "./events.js";

export class LiveView implements AsyncIterable<ChangeEvent> {
  applicationId: string | undefined;
  applicationName: string | undefined;
  revision = 0;
  /** The change-log entry at `revision`, sent with `since` on resume (failover safety). */
  entryId: string | undefined;
  /** True while the view is not in sync with the service (before a snapshot, while away). */
  stale = true;
  deleted = false;
  closed = false;
  /** What ended the view, when something did besides close(). */
  error: Error | undefined;
  readonly rejections: Rejection[] = [];
  readonly application: string;

  #byId = new Map<string, Configuration>();
  #byName = new Map<string, Configuration>();
  #validate: Validator | undefined;
  #announce = new Announcer();
  #results: AckResult[] = [];
  #onClose: (() => Promise<void>) | undefined;

  constructor(application: string, validate?: Validator) {
    this.application = application;
    this.#validate = validate;
  }

  // --- the map ----------------------------------------------------------------------------

  /** The JSON value (`config`) of configuration `name`, or undefined. */
  get(name: string): Json | undefined {
    return this.#byName.get(name)?.config;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** [name, value] pairs, sorted by name. */
  entries(): [string, Json][] {
    return [...this.#byName.keys()].sort().map((name) => [name, this.#byName.get(name)!.config]);
  }

  keys(): string[] {
    return [...this.#byName.keys()].sort();
  }

  get size(): number {
    return this.#byName.size;
  }

  /** The whole resource (id, version, comments, ...) behind `get(name)`. */
  configuration(name: string): Configuration | undefined {
    return this.#byName.get(name);
  }

  // --- listening ----------------------------------------------------------------------------

  /** `on("change", cb)`: every change; `on("rejected", cb)`: every value the validator refused.
   * Callbacks run inside the feed: keep them quick; an exception is logged and ignored. */
  on(kind: "change", callback: (event: ChangeEvent) => void): this;
  on(kind: "rejected", callback: (rejection: Rejection) => void): this;
  on(kind: "change" | "rejected", callback: (arg: never) => void): this {
    this.#announce.on(kind, callback);
    return this;
  }

  off(kind: "change" | "rejected", callback: (arg: never) => void): this {
    this.#announce.off(kind, callback);
    return this;
  }

  /** Resolves at the next change to the map; rejects once the view has ended. */
  changed(): Promise<void> {
    return this.#announce.changed(this.closed ? this.#closedError() : undefined);
  }

  /** `for await (const event of live)`: the change events from now on, until close(). */
  [Symbol.asyncIterator](): AsyncIterator<ChangeEvent> {
    return this.#announce.iterate(this.closed);
  }

  /** Stop the feed and end the view (and every iterator of it). */
  async close(): Promise<void> {
    await this.#onClose?.();
    this.end();
  }

  // --- fed by the feed ------------------------------------------------------------------------

  /** @internal */
  setCloser(closer: () => Promise<void>): void {
    this.#onClose = closer;
  }

  /** @internal End the view; `error`, if given, is what changed() rejects with. */
  end(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.error = error;
    this.#announce.end(this.#closedError());
  }

  /** @internal What was applied or rejected since the last call, as `ack` results. */
  takeResults(): AckResult[] {
    return this.#results.splice(0);
  }

  /** @internal Everything up to `revision` is applied (a `synced` frame). */
  reached(revision: number, entryId: string | undefined): void {
    if (revision >= this.revision) {
      this.revision = revision;
      this.entryId = entryId;
    }
  }

  /** @internal Start from a cached state (still stale). */
  load(state: CacheState): void {
    this.applicationId = state.application_id;
    this.applicationName = state.application_name ?? undefined;
    this.revision = state.revision;
    this.entryId = state.entry_id ?? undefined;
    this.#replace(new Map(state.configurations.map((c) => [c.id, c])), state.revision, "snapshot");
  }

  /** @internal The state to cache, once there is one. */
  snapshot(): CacheState | undefined {
    if (this.applicationId === undefined) return undefined;
    return {
      application_id: this.applicationId,
      application_name: this.applicationName ?? null,
      revision: this.revision,
      entry_id: this.entryId ?? null,
      configurations: [...this.#byId.values()],
    };
  }

  /** @internal Replace everything with a snapshot (first, or a reset), reporting each change. */
  applySnapshot(message: SnapshotFrame, applicationName: string | undefined): void {
    this.applicationId = message.application_id;
    if (applicationName !== undefined) this.applicationName = applicationName;
    const wanted = new Map(message.configurations.map((c) => [c.id, c]));
    for (const [id, next] of [...wanted]) {
      const old = this.#byId.get(id);
      if ((!old || !same(old.config, next.config)) && !this.#accepts(next, message.revision)) {
        if (old) wanted.set(id, old);
        else wanted.delete(id);
      }
    }
    this.revision = message.revision;
    this.entryId = message.entry_id ?? undefined;
    for (const c of message.configurations) if (wanted.get(c.id) === c) this.#applied(c);
    this.#replace(wanted, message.revision, "snapshot");
  }

  /** @internal Apply one change; false (nothing done) for one already applied. */
  applyChange(message: ChangeFrame): boolean {
    if (message.revision <= this.revision) return false;
    this.revision = message.revision;
    this.entryId = message.entry_id ?? undefined;
    const op = message.op;
    if (op === "application_updated") {
      const name = message.application?.["name"];
      if (typeof name === "string") this.applicationName = name;
    } else if (op === "application_deleted") {
      this.markDeleted();
    } else if (op === "deleted") {
      this.#delete(String(message.configuration?.["id"]), message.revision);
    } else if (op === "rolled_back") {
      this.#rollBack(message);
    } else if (message.configuration) {
      this.#upsert(message.configuration as unknown as Configuration, message.revision);
    }
    return true;
  }

  /** @internal The application is gone: empty the map and end the view. */
  markDeleted(): void {
    this.deleted = true;
    this.#replace(new Map(), this.revision, "application_deleted");
    this.end();
  }

  // --- bookkeeping -------------------------------------------------------------------------

  #rollBack(message: ChangeFrame): void {
    // One step: every event of it reported together, changed() woken once.
    const gone = new Set(message.deleted ?? []);
    const wanted = new Map([...this.#byId].filter(([id]) => !gone.has(id)));
    for (const data of message.configurations ?? []) {
      const next = data as unknown as Configuration;
      const old = wanted.get(next.id);
      const unchanged = old !== undefined && old.name === next.name && same(old.config, next.config);
      if (unchanged || this.#accepts(next, message.revision)) wanted.set(next.id, next);
    }
    this.#replace(wanted, message.revision, "rolled_back");
  }

  #upsert(next: Configuration, revision: number): void {
    const old = this.#byId.get(next.id);
    if (old && old.name === next.name && same(old.config, next.config)) {
      this.#put(next); // comments or version only: nothing to report
      this.#applied(next);
      return;
    }
    if (!this.#accepts(next, revision)) return;
    if (old && old.name !== next.name) this.#delete(old.id, revision);
    const previous = this.#byName.get(next.name);
    this.#put(next);
    this.#applied(next);
    const op = previous ? "updated" : "created";
    this.#report([{ name: next.name, old: previous?.config, new: next.config, revision, op }]);
  }

  #delete(id: string, revision: number): void {
    const old = this.#byId.get(id);
    if (!old) return;
    this.#byId.delete(id);
    if (this.#byName.get(old.name) === old) this.#byName.delete(old.name);
    this.#report([{ name: old.name, old: old.config, new: undefined, revision, op: "deleted" }]);
  }

  #put(c: Configuration): void {
    this.#byId.set(c.id, c);
    this.#byName.set(c.name, c);
  }

  #replace(byId: Map<string, Configuration>, revision: number, op: ChangeOp): void {
    const before = this.#byName;
    this.#byId = byId;
    this.#byName = new Map([...byId.values()].map((c) => [c.name, c]));
    const names = [...new Set([...before.keys(), ...this.#byName.keys()])].sort();
    const events: ChangeEvent[] = [];
    for (const name of names) {
      const old = before.get(name)?.config;
      const now = this.#byName.get(name)?.config;
      if (!same(old, now)) events.push({ name, old, new: now, revision, op });
    }
    this.#report(events);
  }

  #accepts(next: Configuration, revision: number): boolean {
    if (!this.#validate) return true;
    let reason: string;
    try {
      const verdict = this.#validate(next.name, next.config);
      if (verdict instanceof Promise) {
        // A promise is truthy: accepting it would accept anything.
        verdict.catch(() => undefined);
        reason = "the validator must be a plain function, not async";
      } else if (verdict === false) {
        reason = "the validator returned false";
      } else {
        return true;
      }
    } catch (error) {
      reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    reason = reason.slice(0, 1000);
    this.#results.push({ configuration_id: next.id, version: next.version, status: "rejected", reason });
    const rejection = { name: next.name, value: next.config, revision, reason };
    this.rejections.push(rejection);
    if (this.rejections.length > 100) this.rejections.shift();
    this.#announce.rejected(rejection);
    return false;
  }

  #applied(c: Configuration): void {
    this.#results.push({ configuration_id: c.id, version: c.version, status: "applied" });
  }

  #report(events: ChangeEvent[]): void {
    this.#announce.report(events);
  }

  #closedError(): Error {
    return this.error ?? new LiveClosed(`the live view of ${this.application} has ended`);
  }
}
