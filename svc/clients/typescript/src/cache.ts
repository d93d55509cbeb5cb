// The last-known-good state of a live view. In Node a file (the Python client's format),
// replaced atomically: written to a temporary file in the same directory, flushed, renamed
// over the old one, so a crash leaves the old file or the new one, never half of one. In the
// browser a memory map only (no localStorage: configuration may hold what a page must not keep).
import { isNode } from "./runtime.js";
import type { Configuration as RestConfiguration } from "./generated.js";

export type Configuration = RestConfiguration;

export interface CacheState {
  application_id: string;
  application_name: string | null;
  revision: number;
  entry_id: string | null;
  configurations: Configuration[];
}

const MEMORY = new Map<string, CacheState>();

function matches(state: CacheState, application: string): boolean {
  return application === state.application_id || application === state.application_name;
}

/** The cached state of `application` at `path`, or undefined when there is none usable. */
export async function load(path: string, application: string): Promise<CacheState | undefined> {
  let state: CacheState | undefined;
  if (!isNode) {
    state = MEMORY.get(path);
  } else {
    const fs = await import("node:fs/promises");
    try {
      state = JSON.parse(await fs.readFile(path, "utf8")) as CacheState;
    } catch (error) {
      // A cache is an optimisation: an unreadable one must not stop the service starting.
      if ((error as { code?: string }).code !== "ENOENT") {
        console.warn(`configsvc-client: ignoring unreadable cache file ${path}: ${String(error)}`);
      }
      return undefined;
    }
  }
  if (!state || typeof state.revision !== "number" || !Array.isArray(state.configurations)) return undefined;
  return matches(state, application) ? state : undefined;
}

/** Replace the cache at `path` with `state`, atomically. */
export async function save(path: string, state: CacheState): Promise<void> {
  if (!isNode) {
    MEMORY.set(path, state);
    return;
  }
  const fs = await import("node:fs/promises");
  const nodePath = await import("node:path");
  const tmp = nodePath.join(nodePath.dirname(path), `.${nodePath.basename(path)}.${Date.now()}.${Math.random().toString(36).slice(2)}.tmp`);
  const file = await fs.open(tmp, "w");
  try {
    await file.writeFile(JSON.stringify(state));
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (error) {
    await fs.unlink(tmp).catch(() => undefined);
    throw error;
  }
}

/** Saves the newest submitted state, one write at a time; a burst of changes costs one write. */
export class Writer {
  readonly path: string;
  #pending: CacheState | undefined;
  #running: Promise<void> | undefined;

  constructor(path: string) {
    this.path = path;
  }

  submit(state: CacheState): void {
    this.#pending = state;
    this.#running ??= this.#run();
  }

  /** Resolves once what was submitted is written. */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #run(): Promise<void> {
    while (this.#pending) {
      const state = this.#pending;
      this.#pending = undefined;
      try {
        await save(this.path, state);
      } catch (error) {
        console.warn(`configsvc-client: could not write cache file ${this.path}: ${String(error)}`);
      }
    }
    this.#running = undefined;
  }
}
