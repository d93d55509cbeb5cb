// The one way a REST call is made: URL from the operation's spec, token in the Authorization
// header (never the URL), JSON in and out, problem details turned into a ConfigsvcError.
import { tokenFromEnv } from "./runtime.js";

/** How a generated method maps onto HTTP (see generated.ts's OPERATIONS). */
export interface OperationSpec {
  method: string;
  path: string;
  path_params: readonly (readonly [string, string])[];
  query: readonly (readonly [string, string])[];
  headers: readonly (readonly [string, string])[];
  body: boolean;
}

/** Options every call takes besides its own parameters. */
export interface CallOptions {
  /** Abort the request (e.g. `AbortSignal.timeout(5000)`). */
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** The service's base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** A token secret; in Node, `CONFIGSVC_TOKEN` when omitted. */
  token?: string;
  /** Per-request timeout in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Labels sent in `hello` by every live view of this client (host, service, ...). */
  labels?: Record<string, string>;
}

/** The service answered with an HTTP error: `status` and the problem body's fields. */
export class ConfigsvcError extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly title: string | undefined;
  readonly detail: string | undefined;
  /** Per-field errors of a validation problem (422), else undefined. */
  readonly errors: unknown[] | undefined;
  /** The whole problem body (RFC 9457), with any extension fields. */
  readonly problem: Record<string, unknown>;

  constructor(status: number, problem: Record<string, unknown>) {
    const detail = typeof problem["detail"] === "string" ? problem["detail"] : undefined;
    super(detail ? `${status}: ${detail}` : `HTTP ${status}`);
    this.name = "ConfigsvcError";
    this.status = status;
    this.problem = problem;
    this.type = typeof problem["type"] === "string" ? problem["type"] : undefined;
    this.title = typeof problem["title"] === "string" ? problem["title"] : undefined;
    this.detail = detail;
    this.errors = Array.isArray(problem["errors"]) ? problem["errors"] : undefined;
    // The problem's other fields (configurations, first_revision, ...) as properties too.
    for (const [key, value] of Object.entries(problem)) {
      if (!(key in this)) Object.defineProperty(this, key, { value, enumerable: true });
    }
  }
}

// The ETag each resource was served with, without adding a field to the REST JSON.
const ETAGS = new WeakMap<object, string>();

/** The ETag `resource` was served with: pass it as `ifMatch` to a write. */
export function etagOf(resource: object): string | undefined {
  return ETAGS.get(resource);
}

/** A page of a list operation. */
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * Every item of every page: `for await (const app of paginate((cursor) =>
 * client.listApplications({ cursor })))`.
 */
export async function* paginate<T>(
  page: (cursor: string | undefined) => Promise<Page<T>>,
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  for (;;) {
    const got = await page(cursor);
    yield* got.items;
    if (got.next_cursor === null || got.next_cursor === undefined) return;
    cursor = got.next_cursor;
  }
}

export class Http {
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly labels: Record<string, string>;
  readonly #token: string | undefined;

  constructor(options: ClientOptions) {
    this.baseUrl = options.url.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.labels = options.labels ?? {};
    this.#token = options.token ?? tokenFromEnv();
  }

  /** The secret, for the feed's handshake only. */
  token(): string | undefined {
    return this.#token;
  }

  async request(
    spec: OperationSpec,
    args: Record<string, unknown>,
    body: unknown,
    options: Record<string, unknown>,
  ): Promise<unknown> {
    let path = spec.path;
    for (const [name, arg] of spec.path_params) {
      // Quoted: an id stays one path segment, whatever it holds.
      path = path.replace(`{${name}}`, encodeURIComponent(String(args[arg])));
    }
    const url = new URL(this.baseUrl + path);
    for (const [name, option] of spec.query) {
      const value = options[option];
      if (value !== undefined && value !== null) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    for (const [name, option] of spec.headers) {
      const value = options[option];
      if (value !== undefined && value !== null) headers[name] = String(value);
    }
    if (this.#token) headers["authorization"] = `Bearer ${this.#token}`;
    if (spec.body) headers["content-type"] = "application/json";
    const signals = [AbortSignal.timeout(this.timeoutMs)];
    if (options["signal"] instanceof AbortSignal) signals.push(options["signal"]);
    const response = await fetch(url, {
      method: spec.method,
      headers,
      body: spec.body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.any(signals),
    });
    return this.#result(response);
  }

  async #result(response: Response): Promise<unknown> {
    const text = await response.text();
    if (!response.ok && response.status !== 304) {
      let problem: Record<string, unknown> = { status: response.status };
      try {
        const parsed: unknown = JSON.parse(text);
        if (parsed && typeof parsed === "object") problem = parsed as Record<string, unknown>;
      } catch {
        if (text) problem["detail"] = text.slice(0, 500);
      }
      throw new ConfigsvcError(response.status, problem);
    }
    if (!text) return undefined;
    const result: unknown = JSON.parse(text);
    const etag = response.headers.get("etag");
    if (etag && result && typeof result === "object") ETAGS.set(result, etag);
    return result;
  }
}
