// The REST API as the console uses it: same origin, the session cookie, the CSRF header on writes.

let csrf = "";
let onSignedOut = () => {};

export function setSession(session) { csrf = session ? session.csrf_token : ""; }
export function whenSignedOut(callback) { onSignedOut = callback; }

/** A refused request: `status`, the problem's `detail`, its per-field `errors`, the response. */
export class ApiError extends Error {
  constructor(status, problem, response) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.errors = problem.errors || [];
    this.response = response;
  }
}

/** fetch() under /api/v1; `body` is sent as JSON; answers {data, etag, status, revision}. */
export async function call(method, path, { body, headers = {}, reason, ifMatch, query } = {}) {
  const url = new URL("/api/v1" + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const sent = { ...headers };
  if (method !== "GET") sent["X-CSRF-Token"] = csrf;
  if (body !== undefined) sent["Content-Type"] = "application/json";
  if (reason) sent["X-Change-Reason"] = reason;
  if (ifMatch) sent["If-Match"] = `"${ifMatch}"`;
  const response = await fetch(url, {
    method, headers: sent, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith("/sessions")) onSignedOut("Your session has ended: sign in again.");
    throw new ApiError(response.status, data || {}, response);
  }
  const etag = response.headers.get("ETag");
  const revision = response.headers.get("Config-Revision");
  return {
    data, status: response.status, etag: etag ? Number(etag.replaceAll('"', "")) : null,
    revision: revision === null ? null : Number(revision),
  };
}

export const get = (path, query) => call("GET", path, { query }).then((r) => r.data);

/** Every item of a paged list (bounded: at most `max` items). */
export async function all(path, query = {}, max = 2000) {
  const items = [];
  let cursor;
  do {
    const page = await get(path, { ...query, limit: 500, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
