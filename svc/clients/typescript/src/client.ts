// Client: every REST operation (generated.ts), pagination, and live views of applications.
import { Feed } from "./feed.js";
import type { LiveOptions } from "./feed.js";
import { Operations } from "./generated.js";
import { Http, paginate } from "./http.js";
import type { ClientOptions, OperationSpec, Page } from "./http.js";
import type { LiveView } from "./view.js";

function randomId(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export class Client extends Operations {
  readonly url: string;
  /** This client's id in the fleet view: the same on every socket it opens. */
  readonly clientId: string;
  readonly #http: Http;

  constructor(options: ClientOptions) {
    super();
    this.#http = new Http(options);
    this.url = this.#http.baseUrl;
    this.clientId = randomId();
  }

  protected call(spec: OperationSpec, args: Record<string, unknown>, body: unknown, options: object): Promise<unknown> {
    return this.#http.request(spec, args, body, options as Record<string, unknown>);
  }

  /**
   * Every item of a list operation, page after page:
   * `for await (const app of client.paginate((cursor) => client.listApplications({ cursor })))`.
   */
  paginate<T>(page: (cursor: string | undefined) => Promise<Page<T>>): AsyncGenerator<T, void, undefined> {
    return paginate(page);
  }

  /**
   * A live, read-only view of an application (by name or id), kept current over the feed.
   * Resolves at the first snapshot, or at once from `cachePath` while the service is away.
   */
  live(application: string, options: LiveOptions = {}): Promise<LiveView> {
    return new Feed(this.#http, application, options, this.clientId).start();
  }
}
