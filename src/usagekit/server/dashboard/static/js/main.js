// The dashboard's entry: sign-in, what the key may do, navigation and routes.

import { api } from "./api.js";
import { clearSay, errorText, field, h, say } from "./dom.js";
import { keysAdmin, metersAdmin, tenantsAdmin } from "./pages/admin.js";
import { eventsPage } from "./pages/events.js";
import { failuresPage } from "./pages/failures.js";
import { limitPage, limitsPage } from "./pages/limits.js";
import { meterPage } from "./pages/meter.js";
import { overview } from "./pages/overview.js";
import { deliveriesPage, webhooksPage } from "./pages/webhooks.js";
import { foldable } from "./menu.js";
import { current, go } from "./router.js";
import { forget, getKey, session, setKey } from "./session.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const signout = document.getElementById("signout");
const menu = foldable(document.getElementById("menu"), nav);

// What the key may do, from the API's own answers (401: unknown key; 403: not allowed).
async function probe(key) {
  const allowed = async (path) => {
    try {
      await api(path, { key });
      return true;
    } catch (err) {
      if (err.status === 403) return false;
      throw err;
    }
  };
  if (!(await allowed("/v1/meters"))) {
    throw new Error("This key may only send events; the dashboard needs a read or admin key.");
  }
  const isAdmin = await allowed("/v1/keys");
  const isSuper = isAdmin && (await allowed("/v1/tenants"));
  Object.assign(session, { canRead: true, isAdmin, isSuper, role: isAdmin ? "admin" : "read" });
}

function signInPage(message) {
  nav.hidden = true;
  signout.hidden = true;
  menu.show(false);
  const input = h("input", { type: "password", name: "key", required: true, autocomplete: "off", spellcheck: "false" });
  const error = h("p", { class: "error", role: "alert" }, message || "");
  const form = h("form", { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, "Sign in"),
    h("p", {}, "Paste an API key. It stays in this browser tab only (session storage) and is sent to this server's API."),
    field("API key", input), error, h("button", { type: "submit" }, "Sign in"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const key = input.value.trim();
    try {
      await probe(key);
      setKey(key);
      clearSay();
      go("/");
      start();
    } catch (err) {
      error.textContent = err.status === 401 ? "That key is unknown or revoked." : errorText(err);
      input.focus();
    }
  });
  main.replaceChildren(form);
  input.focus();
}

function navigation() {
  const links = [];
  links.push(["#/", "Overview"], ["#/events", "Events"], ["#/failures", "Failures"], ["#/limits", "Limits"]);
  links.push(session.isAdmin ? ["#/webhooks", "Webhooks"] : ["#/alerts", "Alerts"]);
  if (session.isAdmin) links.push(["#/admin/meters", "Meters"], ["#/admin/keys", "Keys"]);
  if (session.isSuper) links.push(["#/admin/tenants", "Tenants"]);
  nav.replaceChildren(h("ul", {}, links.map(([href, text]) => h("li", {}, h("a", { href }, text)))));
  nav.hidden = false;
  signout.hidden = false;
  menu.show(true);
}

function markCurrent(path) {
  for (const a of nav.querySelectorAll("a")) {
    const target = a.getAttribute("href").slice(1);
    const here = target === "/" ? path === "/" || path.startsWith("/meter/")
      : target === "/limits" ? path === target || path.startsWith("/limit/") : path.startsWith(target);
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

async function route() {
  if (!getKey()) return signInPage();
  const { path, params } = current();
  markCurrent(path);
  clearSay();
  const meter = path.match(/^\/meter\/(.+)$/);
  const limit = path.match(/^\/limit\/(.+)$/);
  const hook = path.match(/^\/webhooks\/(.+)$/);
  if (meter) await meterPage(main, decodeURIComponent(meter[1]), params);
  else if (limit) await limitPage(main, decodeURIComponent(limit[1]), params);
  else if (path === "/limits") await limitsPage(main);
  else if (hook) await deliveriesPage(main, decodeURIComponent(hook[1]));
  else if (path === "/webhooks" || path === "/alerts") await webhooksPage(main);
  else if (path === "/events") await eventsPage(main, params);
  else if (path === "/failures") await failuresPage(main);
  else if (path === "/admin/meters") await metersAdmin(main);
  else if (path === "/admin/keys") await keysAdmin(main);
  else if (path === "/admin/tenants") await tenantsAdmin(main);
  else await overview(main, params);
  document.title = `${main.querySelector("h1")?.textContent || "usagekit"} · usagekit`;
  main.focus({ preventScroll: true });
}

async function start() {
  const key = getKey();
  if (!key) return signInPage();
  try {
    if (session.role === null) await probe(key);
  } catch (err) {
    forget();
    return signInPage(err.status === 401 ? "Your key is unknown or was revoked; sign in again." : errorText(err));
  }
  navigation();
  await route();
}

// The skip link must not touch the hash: routes live there.
document.querySelector(".skip").addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});
signout.addEventListener("click", () => {
  forget();
  say("Signed out.", "ok");
  location.hash = "";
  signInPage();
});
window.addEventListener("usagekit:signed-out", () => signInPage("Your key is unknown or was revoked; sign in again."));
window.addEventListener("hashchange", () => { if (getKey()) route(); });
start();
