// Limits: the list, and a page per limit with its definition, usage against it over the
// current period (a chart and its table) and the subjects closest to it.

import { api } from "../api.js";
import { limitChart } from "../chart.js";
import { errorText, field, h, table } from "../dom.js";
import { sumExact } from "../exact.js";
import { amount, number, raw, when } from "../format.js";
import { replaceParams } from "../router.js";

const CLOSEST = 20;
const PARALLEL = 4;
const enc = encodeURIComponent;

function filterText(filter) {
  const parts = Object.entries(filter || {}).map(([dim, values]) => `${dim} in ${values.join(", ")}`);
  return parts.length ? parts.join("; ") : "none";
}

function periodText(limit) {
  return `${limit.period.replace("_", " ")} (${limit.tz})`;
}

export async function limitsPage(main) {
  main.replaceChildren(h("h1", {}, "Limits"), h("p", {}, "Loading…"));
  let limits;
  try {
    limits = await api("/v1/limits");
  } catch (err) {
    main.replaceChildren(h("h1", {}, "Limits"), h("p", { class: "error" }, errorText(err)));
    return;
  }
  const headers = ["limit", "meter", "period", "value", "thresholds", "scope", "filter"];
  const rows = limits.map((l) => [h("a", { href: `#/limit/${enc(l.slug)}` }, l.slug), l.meter,
    periodText(l), number(l.limit), l.thresholds.map((t) => `${number(t)}%`).join(", "), l.scope,
    filterText(l.filter)]);
  main.replaceChildren(h("h1", {}, "Limits"),
    h("p", { class: "muted" }, "Usage of a meter per period held against a value, per subject or for the whole tenant. Define them with POST /v1/limits or `usagekit limits create`."),
    limits.length ? table("Limits", headers, rows, { id: "limits-table", stack: true }) : h("p", {}, "No limits yet."));
}

export async function limitPage(main, slug, params) {
  main.replaceChildren(h("h1", {}, slug), h("p", {}, "Loading…"));
  let limit, meter;
  try {
    limit = await api(`/v1/limits/${enc(slug)}`);
    meter = await api(`/v1/meters/${enc(limit.meter)}`);
  } catch (err) {
    main.replaceChildren(h("h1", {}, slug), h("p", { class: "error" }, errorText(err)));
    return;
  }
  let closest = null;
  let closestError = null;
  try {
    closest = await api(`/v1/limits/${enc(slug)}/subjects`, { params: { limit: CLOSEST } });
  } catch (err) {
    closestError = err;
  }
  const perSubject = limit.scope === "subject";
  const subject = perSubject ? params.get("subject") || closest?.data[0]?.subject || "" : null;
  const usage = h("section", { id: "usage", "aria-labelledby": "usage-title", "aria-busy": "true" },
    h("h2", { id: "usage-title" }, "Usage this period"));
  const picker = perSubject ? subjectPicker(closest, subject, (s) => {
    replaceParams(s ? { subject: s } : {});
    showUsage(usage, limit, meter, s);
  }) : null;
  main.replaceChildren(...[
    h("h1", {}, limit.slug),
    definition(limit, meter),
    picker,
    usage,
    closestSection(limit, meter, closest, closestError, (s) => {
      picker.elements.subject.value = s;
      picker.requestSubmit();
    }),
  ].filter(Boolean));
  await showUsage(usage, limit, meter, subject);
}

function definition(limit, meter) {
  const row = (term, ...value) => [h("dt", {}, term), h("dd", {}, ...value)];
  return h("dl", { class: "definition", id: "definition" },
    row("Meter", h("a", { href: `#/meter/${enc(meter.slug)}` }, meter.slug),
      ` (${meter.aggregation}${meter.value_property ? ` of ${meter.value_property}` : ""})`),
    row("Limit", amount(limit.limit, meter.unit), " per ", periodText(limit)),
    row("Thresholds", limit.thresholds.map((t) => `${number(t)}%`).join(", ")),
    row("Scope", limit.scope === "subject" ? "each subject" : "the whole tenant"),
    row("Filter", filterText(limit.filter)),
    limit.description ? row("Description", limit.description) : null);
}

function subjectPicker(closest, subject, choose) {
  const input = h("input", { name: "subject", value: subject, list: "closest-subjects", required: true,
    autocomplete: "off", spellcheck: "false" });
  const options = h("datalist", { id: "closest-subjects" },
    (closest?.data || []).map((r) => h("option", { value: r.subject })));
  const form = h("form", { class: "controls", "aria-label": "Subject" },
    field("Subject", input, "the chart shows this subject's usage"), options,
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    choose(input.value.trim());
  });
  return form;
}

async function showUsage(section, limit, meter, subject) {
  const title = section.firstChild;
  section.setAttribute("aria-busy", "true");
  if (subject === "") {
    section.replaceChildren(title, h("p", { class: "muted" }, "No usage in this period yet; name a subject to see theirs."));
    section.setAttribute("aria-busy", "false");
    return;
  }
  try {
    const status = await api(`/v1/limits/${enc(limit.slug)}/status`, { params: { subject } });
    const points = await cumulative(limit, meter, status, subject);
    section.replaceChildren(title, statusLine(status, meter.unit, subject), ...usageView(limit, meter, status, points));
  } catch (err) {
    section.replaceChildren(title, h("p", { class: "error", role: "alert" }, errorText(err)));
  }
  section.setAttribute("aria-busy", "false");
}

function statusLine(s, unit, subject) {
  const whose = subject === null ? "The tenant" : subject;
  return h("p", { id: "status-line", dataset: { usage: raw(s.usage) } },
    `${whose}: `, amount(s.usage, unit, { class: "usage" }), " of ", amount(s.limit, unit),
    s.percent === null ? "" : ` (${number(s.percent)}%)`, ", remaining ", amount(s.remaining, unit),
    ` · ${s.has_access ? "has access" : "over the limit"} · period ${when(s.period_start)} to ${when(s.period_end)}`);
}

// The usage by the end of each bucket of the period (hours of a day, else days), exact,
// for any aggregation: running sums, maxima, latest values from one query where they
// add up; otherwise one query per bucket from the period's start (the meter's own answer).
async function cumulative(limit, meter, status, subject) {
  const granularity = limit.period === "day" ? "hour" : "day";
  const scope = [["tz", limit.tz], ["aggregation_type", "incremental"]];
  if (subject !== null) scope.push(["subject", subject]);
  for (const [dim, values] of Object.entries(limit.filter)) for (const v of values) scope.push([`filter[${dim}]`, v]);
  const path = `/v1/meters/${enc(meter.slug)}/query`;
  const base = await api(path, { params: [["from", status.period_start], ["to", status.period_end],
    ["granularity", granularity], ...scope] });
  const now = Date.now();
  const buckets = base.data.filter((r) => Date.parse(r.start) <= now);
  const agg = meter.aggregation;
  let acc = null;
  if (["sum", "count", "max", "min", "latest"].includes(agg)) {
    return buckets.map((r) => {
      if (r.value !== null) {
        if (acc === null || agg === "latest") acc = r.value;
        else if (agg === "sum" || agg === "count") acc = sumExact([acc, r.value]);
        else if (agg === "max" ? Number(r.value) > Number(acc) : Number(r.value) < Number(acc)) acc = r.value;
      }
      return { start: r.start, end: r.end, value: acc };
    });
  }
  const one = async (r, i) => {
    const params = granularity === "hour"
      ? [["from", status.period_start], ["to", r.end], ["granularity", "day"], ...scope]
      : [["from", r.start], ["to", r.end], ["granularity", "day"], ...scope.filter(([n]) => n !== "aggregation_type"),
        ["aggregation_type", `rolling_${i + 1}d`]];
    const answer = await api(path, { params });
    return { start: r.start, end: r.end, value: answer.data.at(-1)?.value ?? null };
  };
  const out = [];
  for (let i = 0; i < buckets.length; i += PARALLEL) {
    out.push(...(await Promise.all(buckets.slice(i, i + PARALLEL).map((r, j) => one(r, i + j)))));
  }
  return out;
}

function usageView(limit, meter, status, points) {
  const lines = [{ label: "limit", value: limit.limit },
    ...limit.thresholds.filter((t) => Number(t) !== 100).map((t) => ({
      label: `${number(t)}%`, value: (Number(limit.limit) * Number(t)) / 100 }))];
  const xs = [Date.parse(status.period_start) / 1000, ...points.map((p) => Date.parse(p.end) / 1000)];
  const end = Date.parse(status.period_end) / 1000;
  if (xs.at(-1) < end) xs.push(end);
  const usage = [0, ...points.map((p) => p.value), ...(xs.length > points.length + 1 ? [null] : [])];
  const chart = h("div", { class: "chart", id: "limit-chart", role: "img",
    "aria-label": `usage of ${limit.slug} by the end of each ${limit.period === "day" ? "hour" : "day"} of the period, against the limit and its thresholds; the table below has every value` });
  chart.dataset.usage = JSON.stringify(points.map((p) => raw(p.value)));
  chart.dataset.lines = JSON.stringify(lines.map((l) => raw(l.value)));
  const percent = (v) => (v === null || Number(limit.limit) === 0 ? "" : `${(Number(v) * 100 / Number(limit.limit)).toFixed(1)}%`);
  const rows = points.map((p) => [when(p.start), when(p.end), raw(p.value), percent(p.value)]);
  const view = [chart,
    h("details", {}, h("summary", {}, "Usage by the end of each bucket"),
      table(`${limit.slug} usage so far`, ["from", "to", "usage so far", "of limit"], rows, { id: "usage-table" }))];
  requestAnimationFrame(() => {
    if (points.length) limitChart(chart, { xs, usage, lines, tz: limit.tz, unit: meter.unit });
    else chart.append(h("p", {}, "The period has not started."));
  });
  return view;
}

function bar(percent) {
  const width = percent === null ? 0 : Math.min(100, Math.max(0, Number(percent)));
  const over = percent !== null && Number(percent) >= 100;
  return h("span", { class: "bar-cell" },
    h("span", { class: over ? "bar over" : "bar", "aria-hidden": "true" },
      h("span", { class: "fill", style: `width: ${width}%` })),
    h("span", { class: "pct" }, percent === null ? "–" : `${number(percent)}%`));
}

function closestSection(limit, meter, closest, error, pick) {
  const section = h("section", { id: "closest", "aria-labelledby": "closest-title" },
    h("h2", { id: "closest-title" }, limit.scope === "subject" ? "Subjects closest to the limit" : "The tenant's standing"));
  if (error) {
    section.append(h("p", { class: error.status === 403 ? "muted" : "error" }, error.status === 403
      ? "Every subject's usage is tenant-wide; this key is bound to one subject." : errorText(error)));
    return section;
  }
  if (!closest.data.length) {
    section.append(h("p", {}, "No usage in this period yet."));
    return section;
  }
  const headers = ["subject", "usage", "remaining", "of limit", "access"];
  const rows = closest.data.map((r) => [
    r.subject === null ? "(tenant)" : h("button", { type: "button", class: "quiet small", onclick: () => pick(r.subject),
      "aria-label": `Show ${r.subject} in the chart` }, r.subject),
    h("span", { title: raw(r.usage), dataset: { exact: raw(r.usage) } }, amount(r.usage, meter.unit)),
    h("span", { dataset: { exact: raw(r.remaining) } }, amount(r.remaining, meter.unit)),
    bar(r.percent),
    h("span", { class: r.has_access ? "badge" : "badge voided" }, r.has_access ? "yes" : "over"),
  ]);
  section.append(h("p", { class: "muted" }, `Period ${when(closest.period_start)} to ${when(closest.period_end)}; `,
    `the ${closest.data.length} largest, usage descending.`),
  table(`Usage against ${limit.slug}`, headers, rows, { id: "subjects-table", stack: true }));
  return section;
}
