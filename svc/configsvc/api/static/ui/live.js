// The live feed over the page's own origin, authenticated by the session cookie.
// One socket; each page subscribes to the applications it shows and is told of their changes.

const listeners = new Map(); // application id -> Set of callbacks
const revisions = new Map(); // application id -> last revision seen
let socket = null;
let retry = 500;
let ended = false;
let onEnded = () => {};
let onState = () => {};

export function start({ signedOut, state }) {
  onEnded = signedOut;
  onState = state;
  ended = false;
  connect();
}

export function stop() {
  ended = true;
  if (socket) socket.close(1000, "signed out");
  socket = null;
  listeners.clear();
  revisions.clear();
}

function connect() {
  if (ended) return;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/api/v1/ws`, ["configsvc.v1"]);
  const mine = socket;
  mine.addEventListener("open", () => {
    retry = 500;
    onState("live");
    for (const id of listeners.keys()) send(subscription(id));
  });
  mine.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  mine.addEventListener("close", (event) => {
    if (mine !== socket) return;
    socket = null;
    if (event.code === 4401) { ended = true; onEnded("Your session has ended (its token was revoked or expired): sign in again."); return; }
    if (ended) return;
    onState("reconnecting");
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  });
}

function subscription(id) {
  const message = { type: "subscribe", application_id: id };
  if (revisions.has(id)) message.since = revisions.get(id);
  return message;
}

function send(message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function receive(message) {
  const id = message.application_id;
  if (message.revision !== undefined && id) revisions.set(id, message.revision);
  for (const callback of listeners.get(id) || []) callback(message);
}

/**
 * Call `callback` with every frame about application `id`; returns the unsubscribe. `since`: the
 * revision the page's data was read at, so that a change committed before the subscription
 * arrives as a change frame (with its actor and reason) rather than unseen in a snapshot.
 */
export function follow(id, callback, { since } = {}) {
  if (!listeners.has(id)) {
    listeners.set(id, new Set());
    if (!revisions.has(id) && Number.isInteger(since)) revisions.set(id, since);
    send(subscription(id));
  }
  listeners.get(id).add(callback);
  return () => {
    const set = listeners.get(id);
    if (!set) return;
    set.delete(callback);
    if (set.size === 0) {
      listeners.delete(id);
      send({ type: "unsubscribe", application_id: id });
    }
  };
}
