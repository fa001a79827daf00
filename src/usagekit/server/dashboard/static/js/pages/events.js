// Events: newest first, searchable by subject and type; voided ones marked; void (admins).

import { api } from "../api.js";
import { cells, confirmAction, errorText, field, h, json, say } from "../dom.js";
import { when } from "../format.js";
import { replaceParams } from "../router.js";
import { session } from "../session.js";

const PAGE = 50;
const HEADERS = ["time", "id", "source", "type", "subject", "data", "status", ""];

export async function eventsPage(main, params) {
  const subject = h("input", { name: "subject", value: params.get("subject") || "", autocomplete: "off" });
  const type = h("input", { name: "type", value: params.get("type") || "", autocomplete: "off" });
  const form = h("form", { class: "controls", role: "search", "aria-label": "Search events" },
    field("Subject", subject), field("Type", type), h("button", { type: "submit" }, "Search"));
  const body = h("tbody");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, "Load more");
  const list = h("div", { class: "table-wrap stack", tabindex: "0", role: "region", "aria-label": "Events" },
    h("table", { id: "events-table" },
      h("caption", { class: "visually-hidden" }, "Stored events, newest first"),
      h("thead", {}, h("tr", {}, HEADERS.map((c) => h("th", { scope: "col" }, c)))),
      body));
  main.replaceChildren(h("h1", {}, "Events"), form, list, more);
  let cursor = null;
  const load = async (reset) => {
    if (reset) { body.replaceChildren(); cursor = null; }
    try {
      const page = await api("/v1/events", {
        params: { subject: subject.value.trim(), type: type.value.trim(), limit: PAGE, cursor },
      });
      for (const e of page.data) body.append(row(e, () => load(true)));
      if (reset && !page.data.length) body.append(h("tr", {}, h("td", { colspan: "8" }, "No events match.")));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      say(errorText(err), "error");
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    replaceParams({ subject: subject.value.trim(), type: type.value.trim() });
    load(true);
  });
  more.addEventListener("click", () => load(false));
  await load(true);
}

function row(e, reload) {
  const status = e.voided
    ? h("span", { class: "badge voided", title: `voided at ${e.voided_at}` }, "voided")
    : h("span", { class: "badge" }, "live");
  const action = !e.voided && session.isAdmin
    ? h("button", { type: "button", class: "danger small", "aria-label": `Void event ${e.id}`,
      onclick: async () => {
        const ok = await confirmAction(
          `Void event ${e.id} (source ${e.source})? It leaves every total at once and stays listed as voided. This cannot be undone.`,
          "Void event");
        if (!ok) return;
        try {
          const r = await api("/v1/events/void", { method: "POST", body: { ids: [e.id], source: e.source } });
          const before = (r.already_voided || [])[0];
          say(r.voided.length ? `Voided ${e.id}.`
            : before ? `${e.id} was already voided at ${before.voided_at}.` : `${e.id} was not found.`, "ok");
          await reload();
        } catch (err) {
          say(errorText(err), "error");
        }
      } }, "Void…")
    : null;
  return h("tr", { class: e.voided ? "is-voided" : null, dataset: { id: e.id } },
    cells(HEADERS, [when(e.time), e.id, e.source, e.type, e.subject, h("code", {}, json(e.data)), status, action]));
}
