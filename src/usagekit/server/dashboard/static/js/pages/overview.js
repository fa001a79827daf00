// Overview: every meter's total over the range with a sparkline; ingestion health (24 h).

import { api } from "../api.js";
import { hourChart, sparkline } from "../chart.js";
import { errorText, h, say } from "../dom.js";
import { number } from "../format.js";
import { rangeControls, rangeFromForm, readRange, resolve, validZone } from "../range.js";
import { replaceParams } from "../router.js";
import { defaultGranularity } from "../time.js";
import { quantity } from "../units.js";

const PARALLEL = 4;

export async function overview(main, params) {
  const state = { ...readRange(params), presets: params.get("presets") || "" };
  const idle = h("input", { type: "checkbox", name: "presets", value: "all", checked: state.presets === "all" });
  const form = h("form", { class: "controls", "aria-label": "Range" }, rangeControls(state),
    h("div", { class: "field check" }, h("label", {}, idle, " Show idle profile presets")),
    h("button", { type: "submit" }, "Show"));
  const health = h("section", { class: "health", "aria-labelledby": "health-title" },
    h("h2", { id: "health-title" }, "Ingestion, last 24 hours"), h("p", {}, "Loading…"));
  const cards = h("section", { "aria-labelledby": "meters-title", id: "meters" },
    h("h2", { id: "meters-title" }, "Meters"), h("p", {}, "Loading…"));
  main.replaceChildren(h("h1", {}, "Overview"), form, health, cards);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = { ...rangeFromForm(form), presets: idle.checked ? "all" : "" };
    if (!validZone(next.tz)) return say(`unknown time zone ${next.tz}`, "error");
    replaceParams(next);
    showMeters(cards, next);
  });
  showHealth(health, state.tz);
  await showMeters(cards, state);
}

async function showHealth(section, tz) {
  try {
    const stats = await api("/v1/ingestion");
    const tile = (name, label, hint) =>
      h("div", { class: `tile ${name}` }, h("span", { class: "tile-label" }, label),
        h("span", { class: "tile-value", dataset: { stat: name }, title: `${number(stats[name])} records` },
          number(stats[name])),
        hint ? h("small", {}, hint) : null);
    const chart = h("div", { class: "chart hourly", role: "img",
      "aria-label": `accepted records per hour from ${stats.from} to ${stats.to}` });
    section.replaceChildren(section.firstChild,
      h("div", { class: "tiles" },
        tile("accepted", "Accepted"),
        tile("duplicates", "Duplicates", "sent again, ignored"),
        tile("conflicts", "Conflicts", "same id, other content"),
        tile("rejected", "Rejected", "invalid records")),
      h("p", { class: "muted" }, "Accepted per hour:"), chart,
      h("p", {}, h("a", { href: "#/failures" }, "See failures")));
    hourChart(chart, { starts: stats.hours.map((x) => x.start), values: stats.hours.map((x) => x.accepted), tz });
  } catch (err) {
    const text = err.status === 403
      ? "Ingestion counts are tenant-wide; this key is bound to one subject."
      : errorText(err);
    section.replaceChildren(section.firstChild, h("p", { class: err.status === 403 ? "muted" : "error" }, text));
  }
}

// Cards appear as soon as the meters are listed; totals fill in when the summary
// answers (an exact unique count over a long range is its slowest part).
async function showMeters(section, state) {
  const { from, to } = resolve(state);
  const title = section.firstChild;
  section.setAttribute("aria-busy", "true");
  try {
    // By default the API lists the presets the tenant uses; "all" asks for every one.
    const every = state.presets === "all" ? { include_presets: "true" } : {};
    const summary = api("/v1/usage/summary", { params: { from, to, ...every } });
    const meters = await api("/v1/meters", { params: every });
    const grid = h("ul", { class: "cards" });
    const note = h("p", { class: "muted" }, `${from} to ${to}`);
    section.replaceChildren(title, note, grid);
    const { presets, ...range } = state;
    const granularity = defaultGranularity(state.range);
    const cards = new Map();
    const add = (m) => {
      const spark = h("div", { class: "spark", "aria-hidden": "true" });
      const total = h("p", { class: "total pending" }, "…");
      const link = h("a", { href: `#/meter/${encodeURIComponent(m.slug)}?${new URLSearchParams(range)}` }, m.slug);
      grid.append(h("li", { class: "card", dataset: { meter: m.slug } }, h("h3", {}, link), total,
        h("p", { class: "muted" }, `${m.aggregation} of ${m.event_type}`), spark));
      cards.set(m.slug, { meter: m, total });
      return [m, spark];
    };
    const draw = async ([m, el]) => {
      const q = await api(`/v1/meters/${encodeURIComponent(m.slug)}/query`,
        { params: { from, to, granularity, tz: state.tz } });
      sparkline(el, q.data.map((_, k) => k), q.data.map((p) => p.value));
    };
    const own = pool(meters.filter((m) => !m.profile || presets === "all").map(add), draw);
    const totals = new Map((await summary).data.map((r) => [r.meter, r.value]));
    const late = pool(meters.filter((m) => m.profile && presets !== "all" && totals.has(m.slug)).map(add), draw);
    for (const [slug, { meter, total }] of cards) {
      const value = totals.get(slug) ?? 0;
      total.dataset.total = String(value);
      const { text, title } = quantity(value, meter.unit);
      total.textContent = text;
      total.title = title;
      total.classList.remove("pending");
    }
    const idle = meters.length - cards.size;
    if (idle) note.append(` · ${idle} profile preset meters without usage not shown`);
    if (!cards.size) grid.append(h("li", {}, "No meters yet. An admin key can create them under Admin → Meters."));
    await Promise.all([own, late]);
  } catch (err) {
    section.replaceChildren(title, h("p", { class: "error" }, errorText(err)));
  } finally {
    section.setAttribute("aria-busy", "false");
  }
}

// Run fn over items, at most `n` at a time.
async function pool(items, fn, n = PARALLEL) {
  const work = [...items];
  await Promise.all(Array.from({ length: n }, async () => {
    while (work.length) await fn(work.shift());
  }));
}
