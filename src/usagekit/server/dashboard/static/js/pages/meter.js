// Meter page: the time series stacked by one dimension, its controls, table and CSV.

import { api, queryString } from "../api.js";
import { timeChart } from "../chart.js";
import { errorText, field, h, say, select, table } from "../dom.js";
import { sumExact } from "../exact.js";
import { amount, raw } from "../format.js";
import { rangeControls, rangeFromForm, readRange, resolve, validZone } from "../range.js";
import { replaceParams } from "../router.js";
import { defaultGranularity } from "../time.js";

const GRANULARITIES = ["minute", "hour", "day", "week", "month"].map((g) => [g, g]);
const AGGREGATION_TYPES = [
  ["incremental", "per bucket"],
  ["month_to_date", "month to date"],
  ["rolling_7d", "rolling 7 days"],
  ["rolling_30d", "rolling 30 days"],
  ["rolling_90d", "rolling 90 days"],
];
const ADDITIVE = new Set(["sum", "count", "unique_count"]);
const MAX_ROWS = 5000;

function readState(params) {
  const filters = {};
  for (const [name, value] of params) {
    if (name.startsWith("f.")) (filters[name.slice(2)] ||= []).push(value);
  }
  const range = readRange(params);
  return {
    ...range,
    granularity: params.get("granularity") || defaultGranularity(range.range),
    agg: params.get("agg") || "incremental",
    group: params.get("group") || "",
    filters,
  };
}

function stateParams(s) {
  const pairs = [["range", s.range], ["tz", s.tz], ["granularity", s.granularity], ["agg", s.agg]];
  if (s.start) pairs.push(["start", s.start], ["end", s.end]);
  if (s.group) pairs.push(["group", s.group]);
  for (const [dim, values] of Object.entries(s.filters)) for (const v of values) pairs.push([`f.${dim}`, v]);
  return pairs;
}

// The API parameters for a page state: the chart, the table and the CSV all use these.
export function apiParams(s) {
  const { from, to } = resolve(s);
  const pairs = [["from", from], ["to", to], ["granularity", s.granularity], ["tz", s.tz],
    ["aggregation_type", s.agg]];
  if (s.group) pairs.push(["group_by", s.group]);
  for (const [dim, values] of Object.entries(s.filters)) for (const v of values) pairs.push([`filter[${dim}]`, v]);
  return pairs;
}

export async function meterPage(main, slug, params) {
  main.replaceChildren(h("h1", {}, slug), h("p", {}, "Loading…"));
  let meter;
  try {
    meter = await api(`/v1/meters/${encodeURIComponent(slug)}`);
  } catch (err) {
    main.replaceChildren(h("h1", {}, slug), h("p", { class: "error" }, errorText(err)));
    return;
  }
  const state = readState(params);
  const dims = ["subject", ...Object.keys(meter.dimensions)];
  const form = controls(meter, dims, state);
  const result = h("section", { id: "result", "aria-live": "polite", "aria-busy": "true" });
  main.replaceChildren(
    h("h1", {}, meter.slug),
    h("p", { class: "muted" }, `${meter.aggregation}${meter.value_property ? ` of ${meter.value_property}` : ""}`,
      ` over ${meter.event_type} events${meter.unit ? `, in ${meter.unit}` : ""}`,
      meter.description ? ` · ${meter.description}` : ""),
    form, result);
  const apply = () => {
    const next = formState(form, dims);
    if (!validZone(next.tz)) return say(`unknown time zone ${next.tz}`, "error");
    replaceParams(stateParams(next));
    show(result, meter, next);
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); apply(); });
  let range = state.range;
  form.addEventListener("change", (e) => {
    if (e.target.name === "range") range = followRange(form, range, e.target.value);
    if (e.target.tagName === "SELECT") apply();
  });
  await show(result, meter, state);
}

function controls(meter, dims, s) {
  const group = select("group", [["", "(none)"], ...dims.map((d) => [d, d])], s.group);
  const filters = h("fieldset", { class: "filters" }, h("legend", {}, "Filters (values comma-separated, OR-ed)"),
    dims.map((d) => field(d, h("input", { name: `filter.${d}`, value: (s.filters[d] || []).join(", "),
      autocomplete: "off", spellcheck: "false" }))));
  return h("form", { class: "controls", "aria-label": "Query" },
    rangeControls(s),
    field("Granularity", select("granularity", GRANULARITIES, s.granularity)),
    field("Aggregation", select("agg", AGGREGATION_TYPES, s.agg)),
    field("Group by", group),
    filters,
    h("button", { type: "submit" }, "Show"));
}

// A new range brings its own granularity (hours for the last 24 hours), unless one was chosen.
function followRange(form, previous, next) {
  const granularity = form.elements.granularity;
  if (granularity.value === defaultGranularity(previous)) granularity.value = defaultGranularity(next);
  return next;
}

function formState(form, dims) {
  const data = new FormData(form);
  const filters = {};
  for (const d of dims) {
    const values = String(data.get(`filter.${d}`) || "").split(",").map((v) => v.trim()).filter(Boolean);
    if (values.length) filters[d] = values;
  }
  return { ...rangeFromForm(form), granularity: data.get("granularity"), agg: data.get("agg"),
    group: data.get("group"), filters };
}

function seriesOf(rows, group) {
  const xs = [];
  const seen = new Map();
  const byGroup = new Map();
  for (const r of rows) {
    const t = Date.parse(r.start) / 1000;
    if (!seen.has(t)) { seen.set(t, xs.length); xs.push(t); }
    const label = group ? (r.group[group] ?? "(none)") : "value";
    if (!byGroup.has(label)) byGroup.set(label, []);
    byGroup.get(label)[seen.get(t)] = r.value;
  }
  const series = [...byGroup].map(([label, values]) => ({
    label, values: Array.from({ length: xs.length }, (_, i) => values[i] ?? null),
  }));
  const end = rows.length ? Date.parse(rows.at(-1).end) / 1000 : 0;
  return { xs, end, series };
}

async function show(section, meter, s) {
  const params = apiParams(s);
  const path = `/v1/meters/${encodeURIComponent(meter.slug)}/query`;
  section.setAttribute("aria-busy", "true");
  section.dataset.query = queryString(params);
  let answer;
  try {
    answer = await api(path, { params });
  } catch (err) {
    section.replaceChildren(h("p", { class: "error", role: "alert" }, errorText(err)));
    section.setAttribute("aria-busy", "false");
    return;
  }
  const { xs, end, series } = seriesOf(answer.data, s.group);
  const chartBox = h("div", { class: "chart", id: "chart", role: "img",
    "aria-label": `${meter.slug} from ${answer.from} to ${answer.to}, ${series.length} series; the table below has every value` });
  chartBox.dataset.series = JSON.stringify(series);
  const names = s.group ? [s.group] : [];
  const rows = answer.data.slice(0, MAX_ROWS).map((r) =>
    [r.start, r.end, ...names.map((n) => raw(r.group[n])), raw(r.value)]);
  const download = h("button", { type: "button", id: "download" }, "Download CSV");
  download.addEventListener("click", () => downloadCsv(path, params, meter.slug));
  section.replaceChildren(
    h("p", { class: "muted" }, `${answer.from} to ${answer.to} · ${answer.data.length} rows`,
      ADDITIVE.has(meter.aggregation) && s.agg === "incremental" ? bucketSums(series, s.group, meter.unit) : null),
    chartBox,
    h("div", { class: "row" }, download,
      answer.data.length > MAX_ROWS ? h("span", { class: "muted" }, `table shows the first ${MAX_ROWS} rows; the CSV has all`) : null),
    table(`${meter.slug} values`, ["start", "end", ...names, "value"], rows, { id: "series-table" }),
  );
  if (xs.length) timeChart(chartBox, { xs, end, series, stacked: ADDITIVE.has(meter.aggregation), tz: s.tz, unit: meter.unit });
  else chartBox.append(h("p", {}, "No buckets in this range."));
  section.setAttribute("aria-busy", "false");
}

// " · sum of buckets: alice 1.2 h, bob 3 s", each sum exact in its title.
function bucketSums(series, group, unit) {
  const parts = series.map((x) => [group ? `${x.label} ` : "", amount(sumExact(x.values), unit, { class: "sum" })]);
  return [" · sum of buckets: ", parts.map((part, i) => (i ? [", ", ...part] : part))];
}

async function downloadCsv(path, params, slug) {
  try {
    const text = await api(path, { params: [...params, ["format", "csv"]], accept: "text/csv" });
    const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
    const a = h("a", { href: url, download: `${slug}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    say(errorText(err), "error");
  }
}
