// Failures: rejected and unprocessable records with their errors; retry and clear.

import { api } from "../api.js";
import { cells, confirmAction, errorText, h, say } from "../dom.js";
import { when } from "../format.js";
import { session } from "../session.js";

const HEADERS = ["received", "channel", "error", "record", ""];

export async function failuresPage(main) {
  const body = h("tbody");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, "Load more");
  main.replaceChildren(h("h1", {}, "Failures"),
    h("p", { class: "muted" }, "Records that were rejected or could not be processed, kept verbatim. Retry submits a record again (after fixing its cause); clear drops it."),
    h("div", { class: "table-wrap stack", tabindex: "0", role: "region", "aria-label": "Failures" },
      h("table", { id: "failures-table" },
        h("caption", { class: "visually-hidden" }, "Failures, newest first"),
        h("thead", {}, h("tr", {}, HEADERS.map((c) => h("th", { scope: "col" }, c)))),
        body)),
    more);
  let cursor = null;
  const load = async (reset) => {
    if (reset) { body.replaceChildren(); cursor = null; }
    try {
      const page = await api("/v1/failures", { params: { limit: 50, cursor } });
      for (const f of page.data) body.append(row(f, () => load(true)));
      if (reset && !page.data.length) body.append(h("tr", {}, h("td", { colspan: "5" }, "No failures.")));
      cursor = page.next_cursor;
      more.hidden = !cursor;
    } catch (err) {
      say(errorText(err), "error");
    }
  };
  more.addEventListener("click", () => load(false));
  await load(true);
}

function row(f, reload) {
  const retry = h("button", { type: "button", class: "small", "aria-label": `Retry failure ${f.id}`,
    onclick: async () => {
      try {
        const r = await api(`/v1/failures/${f.id}/retry`, { method: "POST" });
        const why = [...(r.result.rejected || []), ...(r.result.conflicting || [])].map((x) => x.error).join("; ");
        say(r.cleared ? `Failure ${f.id}: stored, cleared.` : `Failure ${f.id} still fails: ${why}`,
          r.cleared ? "ok" : "error");
        await reload();
      } catch (err) {
        say(errorText(err), "error");
      }
    } }, "Retry");
  const clear = h("button", { type: "button", class: "danger small", "aria-label": `Clear failure ${f.id}`,
    onclick: async () => {
      if (!(await confirmAction(`Clear failure ${f.id}? The kept record is deleted.`, "Clear"))) return;
      try {
        await api(`/v1/failures/${f.id}`, { method: "DELETE" });
        say(`Failure ${f.id} cleared.`, "ok");
        await reload();
      } catch (err) {
        say(errorText(err), "error");
      }
    } }, "Clear…");
  return h("tr", { dataset: { id: String(f.id) } },
    cells(HEADERS, [when(f.received), f.channel, h("span", { class: "error-text" }, f.error),
      h("details", {}, h("summary", {}, "record"), h("pre", {}, JSON.stringify(f.record, null, 2))),
      session.isAdmin ? h("span", { class: "actions" }, retry, " ", clear) : null]));
}
