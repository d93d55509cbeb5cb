// What differs between Node and the browser, in one place: the environment's token, the
// WebSocket implementation, the default labels. Node modules are imported lazily, so the
// browser never loads them.

interface NodeProcess {
  env: Record<string, string | undefined>;
  versions: { node?: string };
  pid: number;
  argv: string[];
}

function nodeProcess(): NodeProcess | undefined {
  const p = (globalThis as { process?: NodeProcess }).process;
  return p?.versions?.node ? p : undefined;
}

export const isNode = nodeProcess() !== undefined;

export function tokenFromEnv(): string | undefined {
  return nodeProcess()?.env["CONFIGSVC_TOKEN"] || undefined;
}

export function defaultLabels(): Record<string, string> {
  const p = nodeProcess();
  if (!p) return { service: "browser" };
  const script = p.argv[1] ? p.argv[1].split(/[\\/]/).pop() ?? "node" : "node";
  return { pid: String(p.pid), service: script };
}

/** The part of the WebSocket API the live view uses (the DOM's, or ws's). */
export interface Socket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  // `ws` only (Node without a global WebSocket): a standard WebSocket cannot ping from script.
  /** Send a protocol-level ping (answered by the server's WebSocket layer with a pong). */
  ping?(): void;
  /** Drop the connection at once, without a closing handshake; fires onclose (1006). */
  terminate?(): void;
  on?(event: "pong", listener: () => void): unknown;
}

/** What the feed tells its heartbeat: heard from the peer; the socket closed. */
export interface Heartbeat {
  heard(): void;
  stop(): void;
}

/**
 * Where the socket can ping (`ws`): a ping every `ms`, and a socket that stays silent (no
 * pong, no message) for `ms` after a ping is terminated, so its onclose fires and the feed
 * reconnects. Elsewhere, or with `ms` 0, nothing: a standard WebSocket answers the server's
 * pings itself and sends none, so a dead server is noticed when TCP gives up.
 */
export function heartbeat(socket: Socket, ms: number): Heartbeat {
  const { ping, terminate, on } = socket;
  if (!(ms > 0) || !ping || !terminate || !on) return { heard() {}, stop() {} };
  let waiting = false;
  const timer = setInterval(() => {
    if (waiting) {
      clearInterval(timer);
      terminate.call(socket);
      return;
    }
    waiting = true;
    try {
      ping.call(socket);
    } catch {
      // Not open any more: its onclose follows.
    }
  }, ms);
  const heard = () => {
    waiting = false;
  };
  on.call(socket, "pong", heard);
  return { heard, stop: () => clearInterval(timer) };
}

type SocketClass = new (url: string, protocols?: string[], options?: object) => Socket;

export const SUBPROTOCOL = "configsvc.v1";
const BEARER_SUBPROTOCOL = "configsvc.bearer.";

function base64url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Opens the feed's socket. The token is never in the URL: with `ws` (Node without a global
 * WebSocket) it is the Authorization header; with a standard WebSocket, which cannot set
 * headers, it is the `configsvc.bearer.<base64url>` subprotocol the server also accepts.
 */
export async function openSocket(url: string, token: string | undefined): Promise<Socket> {
  const Native = (globalThis as { WebSocket?: SocketClass }).WebSocket;
  if (Native) {
    const protocols = token ? [SUBPROTOCOL, BEARER_SUBPROTOCOL + base64url(token)] : [SUBPROTOCOL];
    return new Native(url, protocols);
  }
  const moduleName = "ws"; // a variable: bundlers for the browser leave it alone
  const ws = (await import(moduleName)) as { WebSocket: SocketClass };
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  return new ws.WebSocket(url, [SUBPROTOCOL], { headers, maxPayload: 0 });
}
