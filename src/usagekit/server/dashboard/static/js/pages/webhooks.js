// Webhooks: the endpoints (enabled or why not, failing since), each one's delivery log with
// Retry, and the recent alerts. Read keys see the alerts only.

import { api } from "../api.js";
import { cells, errorText, h, say, table } from "../dom.js";
import { number, when } from "../format.js";
import { session } from "../session.js";

const ALERTS = 50;
const DELIVERIES = 100;
const enc = encodeURIComponent;

function state(hook) {
  if (hook.enabled) return h("span", { class: "badge" }, "enabled");
  return h("span", {}, h("span", { class: "badge voided" }, "disabled"),
    hook.disabled_reason ? ` ${hook.disabled_reason}` : "");
}

export async function webhooksPage(main) {
  const title = session.isAdmin ? "Webhooks" : "Alerts";
  const alerts = h("section", { id: "alerts", "aria-labelledby": "alerts-title", "aria-busy": "true" },
    h("h2", { id: "alerts-title" }, "Recent alerts"), h("p", {}, "Loading…"));
  const endpoints = session.isAdmin
    ? h("section", { id: "endpoints", "aria-labelledby": "endpoints-title", "aria-busy": "true" },
      h("h2", { id: "endpoints-title" }, "Endpoints"), h("p", {}, "Loading…"))
    : null;
  main.replaceChildren(h("h1", {}, title),
    h("p", { class: "muted" }, "Alerts are made when usage crosses a limit's threshold (or falls back below it); every enabled endpoint gets each one, signed (Standard Webhooks)."),
    endpoints, alerts);
  await Promise.all([endpoints ? showEndpoints(endpoints) : null, showAlerts(alerts)]);
}

async function showEndpoints(section) {
  const title = section.firstChild;
  try {
    const hooks = await api("/v1/webhooks");
    const headers = ["url", "description", "events", "state", "failing since", ""];
    const rows = hooks.map((w) => [h("code", {}, w.url), w.description || "",
      w.event_types ? w.event_types.join(", ") : "all", state(w), when(w.failing_since),
      h("a", { href: `#/webhooks/${enc(w.id)}`, "aria-label": `Deliveries of ${w.url}` }, "Deliveries")]);
    section.replaceChildren(title, hooks.length
      ? table("Webhook endpoints", headers, rows, { id: "webhooks-table", stack: true })
      : h("p", {}, "No endpoints. Add one with POST /v1/webhooks or `usagekit webhooks create URL`."));
  } catch (err) {
    section.replaceChildren(title, h("p", { class: "error" }, errorText(err)));
  }
  section.setAttribute("aria-busy", "false");
}

async function showAlerts(section) {
  const title = section.firstChild;
  try {
    const page = await api("/v1/alerts", { params: { limit: ALERTS } });
    const headers = ["made", "type", "limit", "subject", "threshold", "usage", "limit value", "period from"];
    const rows = page.data.map((a) => [when(a.created), a.type.replace("limit.threshold_", ""),
      h("a", { href: `#/limit/${enc(a.limit)}` }, a.limit), a.subject ?? "(tenant)",
      `${number(a.threshold)}%`, number(a.usage), number(a.limit_value), when(a.period_start)]);
    section.replaceChildren(title, rows.length
      ? table("Recent alerts, newest first", headers, rows, { id: "alerts-table" })
      : h("p", {}, "No alerts yet."));
  } catch (err) {
    section.replaceChildren(title, h("p", { class: "error" }, errorText(err)));
  }
  section.setAttribute("aria-busy", "false");
}

const LOG = ["delivery", "made", "status", "attempts", "last answer", "latency", "response", "next attempt", ""];

export async function deliveriesPage(main, id) {
  main.replaceChildren(h("h1", {}, "Deliveries"), h("p", {}, "Loading…"));
  let hook;
  try {
    hook = await api(`/v1/webhooks/${enc(id)}`);
  } catch (err) {
    main.replaceChildren(h("h1", {}, "Deliveries"), h("p", { class: "error" }, errorText(err)));
    return;
  }
  const body = h("tbody");
  const refresh = h("button", { type: "button", class: "quiet" }, "Refresh");
  main.replaceChildren(h("h1", {}, "Deliveries"),
    h("p", {}, h("a", { href: "#/webhooks" }, "Webhooks"), " · ", h("code", {}, hook.url), " ", state(hook),
      hook.failing_since ? ` · failing since ${when(hook.failing_since)}` : ""),
    h("div", { class: "row" }, refresh),
    h("div", { class: "table-wrap stack", tabindex: "0", role: "region", "aria-label": "Deliveries" },
      h("table", { id: "deliveries-table" },
        h("caption", { class: "visually-hidden" }, "Deliveries, newest first"),
        h("thead", {}, h("tr", {}, LOG.map((c) => h("th", { scope: "col" }, c)))),
        body)));
  const load = async () => {
    const page = await api(`/v1/webhooks/${enc(id)}/deliveries`, { params: { limit: DELIVERIES } });
    body.replaceChildren(...page.data.map((d) => row(id, d, () => retried(d))));
    if (!page.data.length) body.append(h("tr", {}, h("td", { colspan: String(LOG.length) }, "No deliveries yet.")));
    return page.data;
  };
  // After a retry, look again until the new attempt is in the log (or 10 s pass).
  const retried = async (d) => {
    for (let i = 0; i < 20; i += 1) {
      const now = (await load()).find((x) => x.id === d.id);
      if (!now || now.attempts > d.attempts) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
  refresh.addEventListener("click", () => load().catch((err) => say(errorText(err), "error")));
  try {
    await load();
  } catch (err) {
    say(errorText(err), "error");
  }
}

function row(id, d, after) {
  const last = d.tries.at(-1);
  const retry = d.status === "failed" || (d.status === "pending" && d.attempts > 0)
    ? h("button", { type: "button", class: "small", "aria-label": `Retry delivery ${d.id}`, onclick: async (e) => {
      e.target.disabled = true;
      try {
        await api(`/v1/webhooks/${enc(id)}/deliveries/${d.id}/retry`, { method: "POST" });
        say(`Delivery ${d.id} sent again.`, "ok");
        await after();
      } catch (err) {
        say(errorText(err), "error");
        e.target.disabled = false;
      }
    } }, "Retry")
    : null;
  const badge = { delivered: "badge", failed: "badge voided", pending: "badge pending" }[d.status];
  const tries = d.tries.length
    ? h("details", {}, h("summary", {}, `${d.tries.length} attempt${d.tries.length === 1 ? "" : "s"}`),
      h("ol", { class: "tries" }, d.tries.map((t) => h("li", {},
        `${when(t.at)}: ${t.status_code ?? "no answer"}, ${t.latency_ms} ms${t.error ? `, ${t.error}` : ""}`))))
    : "";
  return h("tr", { dataset: { id: String(d.id), status: d.status } },
    cells(LOG, [h("span", { title: `webhook-id ${d.webhook_id}` }, String(d.id)), when(d.created),
      h("span", { class: badge }, d.status), String(d.attempts),
      last ? (last.status_code === null ? "no answer" : String(last.status_code)) : "",
      last ? `${last.latency_ms} ms` : "",
      last ? h("code", { class: "snippet" }, last.response ?? last.error ?? "") : "",
      d.status === "pending" ? when(d.next_attempt) : d.delivered ? `delivered ${when(d.delivered)}` : "",
      h("span", { class: "actions" }, tries, retry ? [" ", retry] : null)]));
}
