// The WebSocket subscription that keeps a LiveView current. One socket at a time. After any
// loss (worker killed, service restarted, close 1001 / 1012 / 4008, network gone, a server
// silent past the heartbeat of runtime.ts) it waits a jittered, growing delay, connects to
// the base URL again (the load balancer picks a worker) and resubscribes with `since` (and
// `since_entry_id`) = the last revision it holds, so it misses nothing and applies nothing
// twice; a `since` the server cannot serve is answered with a reset snapshot, applied like
// the first one.
import * as cache from "./cache.js";
import { ConfigsvcError } from "./http.js";
import type { Http } from "./http.js";
import { defaultLabels, heartbeat, openSocket } from "./runtime.js";
import type { Heartbeat, Socket } from "./runtime.js";
import { LiveView } from "./view.js";
import type { ChangeFrame, SnapshotFrame, Validator } from "./events.js";

export const SDK = "configsvc-client-ts/0.1.0";
/** The feed closes a socket with this when its token is revoked or expires: do not retry. */
export const CLOSE_REVOKED = 4401;
const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const LABELS_MAX = 32;

export interface LiveOptions {
  /** This process's id in the fleet view; one random id per Client by default. */
  clientId?: string;
  /** Who this is, for the fleet view (`host`, `service`, `version`, ...). */
  labels?: Record<string, string>;
  /** Called with (name, value) before a value is applied; throwing rejects it. */
  validate?: Validator;
  /** Node: a file holding the last-known-good state; browser: a key of a memory cache. */
  cachePath?: string;
  /** How long `live()` waits for a first snapshot without a cache (default 30 s). */
  startTimeoutMs?: number;
  /** Reconnect delays: uniform(0, min(capMs, baseMs * 2^attempt)); defaults 500 and 30 000. */
  backoff?: { baseMs?: number; capMs?: number };
  /**
   * Node with `ws`: ping every this many ms; when neither a pong nor a message follows within
   * as long, drop the socket, go stale and reconnect with `since` (default 30 000; 0: off). A
   * standard WebSocket (browsers, Node 22+) cannot ping: it answers the server's pings, and a
   * dead server is noticed only when TCP gives up.
   */
  heartbeatMs?: number;
}

export function backoffDelay(attempt: number, baseMs: number, capMs: number): number {
  // Full jitter: spreads many clients' retries over the whole window.
  return Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 62));
}

class Gone extends Error {}
class Refused extends Error {}

export class Feed {
  readonly view: LiveView;
  /** Connections attempted after the first one. */
  attempts = 0;
  readonly #http: Http;
  readonly #options: LiveOptions;
  readonly #clientId: string;
  readonly #byId: boolean;
  readonly #writer: cache.Writer | undefined;
  #socket: Socket | undefined;
  #everSynced = false;
  #syncedNow = false;
  #acked: number | undefined;
  #stopped = false;
  #wakeSleep: (() => void) | undefined;
  #ready!: () => void;
  #failed!: (error: Error) => void;
  readonly #started: Promise<void>;
  #loop: Promise<void> | undefined;

  constructor(http: Http, application: string, options: LiveOptions, clientId: string) {
    this.#http = http;
    this.#options = options;
    this.#clientId = options.clientId ?? clientId;
    this.#byId = ULID.test(application);
    this.#writer = options.cachePath ? new cache.Writer(options.cachePath) : undefined;
    this.view = new LiveView(application, options.validate);
    this.view.setCloser(() => this.stop());
    this.#started = new Promise((resolve, reject) => {
      this.#ready = resolve;
      this.#failed = reject;
    });
  }

  /** Resolves with the view at the first snapshot, or at once from a cache while away. */
  async start(): Promise<LiveView> {
    const path = this.#options.cachePath;
    const state = path ? await cache.load(path, this.view.application) : undefined;
    if (state) this.view.load(state);
    this.#loop = this.#run();
    const timeoutMs = this.#options.startTimeoutMs ?? 30_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no snapshot of ${this.view.application} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([this.#started, timeout]);
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return this.view;
  }

  /** Stop the feed, close the socket, write the cache one last time. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeSleep?.();
    this.#socket?.close(1000);
    await this.#loop;
    await this.#writer?.flush();
    this.view.end();
  }

  async #run(): Promise<void> {
    try {
      await this.#reconnecting();
    } catch (error) {
      // Never silently stale: end the view, so that its waiters hear of it.
      const err = error instanceof Error ? error : new Error(String(error));
      this.#failed(err);
      this.view.end(err);
    }
  }

  async #reconnecting(): Promise<void> {
    const base = this.#options.backoff?.baseMs ?? 500;
    const cap = this.#options.backoff?.capMs ?? 30_000;
    let attempt = 0;
    while (!this.#stopped) {
      this.#syncedNow = false;
      try {
        await this.#connection();
      } catch (error) {
        if (error instanceof Gone) {
          if (!this.#everSynced) throw new ConfigsvcError(404, { status: 404, detail: error.message });
          this.view.markDeleted();
        } else if (!(error instanceof Refused) || this.#stopped) {
          throw error;
        }
      }
      if (this.view.deleted || this.#stopped) return;
      this.view.stale = true;
      if (this.view.applicationId !== undefined) this.#ready(); // serve the cached state meanwhile
      attempt = this.#syncedNow ? 0 : attempt; // a connection that synced was healthy
      this.attempts += 1;
      await this.#sleep(backoffDelay(attempt, base, cap));
      attempt += 1;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wakeSleep = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One socket: hello, subscribe, then apply frames until it closes. */
  async #connection(): Promise<void> {
    const url = this.#http.baseUrl.replace(/^http/, "ws") + "/api/v1/ws";
    const socket = await openSocket(url, this.#http.token());
    this.#socket = socket;
    this.#acked = undefined;
    await new Promise<void>((resolve, reject) => {
      let failure: Error | undefined;
      // Until the subscription is answered, a silent server is as good as a dead one.
      const silence = setTimeout(() => socket.close(4000, "no answer"), this.#http.timeoutMs);
      let beat: Heartbeat | undefined;
      socket.onopen = () => {
        beat = heartbeat(socket, this.#options.heartbeatMs ?? 30_000);
        socket.send(JSON.stringify(this.#hello()));
        socket.send(JSON.stringify(this.#subscription()));
      };
      socket.onerror = (event) => {
        const message = String((event as { message?: unknown }).message ?? "");
        // ws says why a handshake failed; 401 would be refused again: end the view.
        if (/\b401\b/.test(message)) failure = new ConfigsvcError(401, { status: 401, detail: "the token was refused" });
      };
      socket.onmessage = (event) => {
        beat?.heard();
        try {
          this.#handle(String(event.data));
          if (this.#syncedNow) clearTimeout(silence);
          const ack = this.#ack();
          if (ack) socket.send(JSON.stringify(ack));
        } catch (error) {
          failure = error as Error;
          socket.close(1000);
        }
      };
      socket.onclose = (event) => {
        clearTimeout(silence);
        beat?.stop();
        if (event.code === CLOSE_REVOKED) {
          failure = new ConfigsvcError(401, { status: 401, detail: "the token was revoked or has expired" });
        }
        // 1001 (going away), 1012 (restart), 4008 (too slow), a drop: resume with since.
        if (failure) reject(failure);
        else resolve();
      };
    });
  }

  #hello(): Record<string, unknown> {
    const labels = { ...defaultLabels(), ...this.#http.labels, ...this.#options.labels };
    return {
      type: "hello",
      client_id: this.#clientId,
      labels: Object.fromEntries(Object.entries(labels).slice(0, LABELS_MAX)),
      sdk: SDK,
    };
  }

  #subscription(): Record<string, unknown> {
    const view = this.view;
    if (this.#everSynced && view.applicationId !== undefined) {
      const resume: Record<string, unknown> = { type: "subscribe", application_id: view.applicationId, since: view.revision };
      if (view.entryId !== undefined) resume["since_entry_id"] = view.entryId;
      return resume;
    }
    if (this.#byId) return { type: "subscribe", application_id: view.application };
    return { type: "subscribe", application_name: view.application };
  }

  #ack(): Record<string, unknown> | undefined {
    const view = this.view;
    const results = view.takeResults();
    if (view.applicationId === undefined || (results.length === 0 && view.revision === this.#acked)) return undefined;
    this.#acked = view.revision;
    return { type: "ack", application_id: view.applicationId, revision: view.revision, results };
  }

  #handle(data: string): void {
    let message: { type?: unknown; [key: string]: unknown };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      console.warn(`configsvc-client: ignoring malformed feed message ${data.slice(0, 200)}`);
      return; // one bad frame is the server's bug; dropping the socket would not help
    }
    switch (message.type) {
      case "error": {
        const detail = String(message["detail"]);
        if (message["code"] === "not_found") throw new Gone(detail);
        if (!this.#syncedNow) throw new Refused(`${String(message["code"])}: ${detail}`);
        console.warn(`configsvc-client: feed error ${String(message["code"])}: ${detail}`);
        return;
      }
      case "snapshot": {
        this.view.applySnapshot(message as unknown as SnapshotFrame, this.#byId ? undefined : this.view.application);
        this.#synced(Number(message["revision"]));
        return;
      }
      case "change": {
        if (this.view.applyChange(message as unknown as ChangeFrame)) this.#persist();
        return;
      }
      case "synced": {
        this.view.reached(Number(message["revision"]), (message["entry_id"] as string | null) ?? undefined);
        this.#synced(Number(message["revision"]));
        return;
      }
      default:
        return;
    }
  }

  #synced(revision: number): void {
    // Everything up to `revision` is applied, even when none of it was ours.
    this.view.revision = Math.max(this.view.revision, revision);
    this.#everSynced = this.#syncedNow = true;
    this.view.stale = false;
    this.#ready();
    this.#persist();
  }

  #persist(): void {
    const state = this.view.snapshot();
    if (this.#writer && state) this.#writer.submit(state);
  }
}
