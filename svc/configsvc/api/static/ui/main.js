// The console's shell: the session (sign in, who am I, sign out), the router, the live status.

import * as api from "./api.js";
import * as live from "./live.js";
import { h, fill, toast } from "./dom.js";
import * as pages from "./pages.js";
import * as admin from "./admin.js";
import { editorPage } from "./edit.js";
import { history, applicationHistory } from "./history.js";
import { schemas } from "./schemas.js";
import { rollouts } from "./rollouts.js";

const $ = (id) => document.getElementById(id);
const state = { session: null, cleanup: [] };

const ROUTES = [
  [/^#\/app\/([0-9A-Z]{26})$/, pages.application],
  [/^#\/app\/([0-9A-Z]{26})\/history$/, applicationHistory],
  [/^#\/app\/([0-9A-Z]{26})\/clients$/, pages.clients],
  [/^#\/app\/([0-9A-Z]{26})\/schemas$/, schemas],
  [/^#\/config\/([0-9A-Z]{26})$/, editorPage],
  [/^#\/config\/([0-9A-Z]{26})\/history$/, history],
  [/^#\/config\/([0-9A-Z]{26})\/rollouts$/, rollouts],
  [/^#\/audit$/, admin.audit],
  [/^#\/tokens$/, admin.tokens],
  [/^(#\/?)?$/, pages.search],
];

/** What every page gets: where to draw, the session, and a way to clean up when leaving. */
function context() {
  return {
    session: state.session,
    admin: state.session && state.session.token.admin,
    onLeave: (fn) => state.cleanup.push(fn),
  };
}

async function route() {
  if (!state.session) return;
  for (const fn of state.cleanup.splice(0)) fn();
  const view = $("view");
  const hash = location.hash;
  const found = ROUTES.find(([pattern]) => pattern.test(hash));
  fill(view);
  if (!found) { fill(view, h("p", {}, "No such page. "), h("a", { href: "#/" }, "Search")); return; }
  const [pattern, page] = found;
  try {
    await page(view, context(), ...pattern.exec(hash).slice(1));
  } catch (error) {
    if (error.status === 401) return;
    fill(view, h("p", { class: "error", role: "alert" }, error.message));
  }
  const heading = view.querySelector("h1");
  if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus({ preventScroll: true }); }
}

function showSignIn(note = "") {
  state.session = null;
  api.setSession(null);
  live.stop();
  for (const fn of state.cleanup.splice(0)) fn();
  fill($("view"));
  $("nav").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "";
  $("live").textContent = "";
  $("sign-in").hidden = false;
  $("sign-in-note").textContent = note;
  $("token").focus();
}

function signedIn(session) {
  state.session = session;
  api.setSession(session);
  $("sign-in").hidden = true;
  $("nav").hidden = false;
  $("sign-out").hidden = false;
  for (const link of document.querySelectorAll("[data-admin]")) link.hidden = !session.token.admin;
  $("who").textContent = `${session.token.name}${session.token.admin ? " (admin)" : ""}`;
  live.start({
    signedOut: showSignIn,
    state: (s) => { $("live").textContent = s === "live" ? "● live" : "○ reconnecting…"; },
  });
  route();
}

async function signIn(event) {
  event.preventDefault();
  const input = $("token");
  try {
    const { data } = await api.call("POST", "/sessions", { body: { token: input.value.trim() } });
    input.value = "";
    signedIn(data);
  } catch (error) {
    $("sign-in-note").textContent = error.status === 401 ? "That token is not valid (unknown, revoked or expired)." : error.message;
  }
}

async function signOut() {
  try { await api.call("DELETE", "/sessions/current"); } catch { /* ended already */ }
  showSignIn("Signed out.");
}

async function boot() {
  api.whenSignedOut(showSignIn);
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  try {
    signedIn((await api.call("GET", "/sessions/current")).data);
  } catch {
    showSignIn();
  }
}

window.addEventListener("unhandledrejection", (event) => {
  if (event.reason && event.reason.status === 401) return;
  toast(event.reason ? event.reason.message : "something failed");
});

boot();
