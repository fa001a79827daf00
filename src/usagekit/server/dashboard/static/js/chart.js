// Charts with the vendored uPlot (a global from /ui/vendor/uplot/uPlot.iife.min.js).

import { PALETTE, seriesColours } from "./colours.js";
import { axisLabels, quantity } from "./units.js";

const uPlot = () => window.uPlot;
const MIN_WIDTH = 200;

function widthOf(el, fallback) {
  return Math.max(MIN_WIDTH, el.clientWidth || fallback);
}

/**
 * Keep a chart as wide as its element, following the element itself (not the window),
 * and let the chart go once the element has left the page. Returns a destroy function.
 */
function fit(el, chart, height) {
  let width = el.clientWidth;
  let frame = 0;
  const observer = new ResizeObserver(() => {
    if (!el.isConnected) return destroy();
    cancelAnimationFrame(frame);
    // Resize on the next frame: resizing inside the callback would notify again at once.
    frame = requestAnimationFrame(() => {
      const now = el.clientWidth;
      if (!el.isConnected || !now || now === width) return;
      width = now;
      chart.setSize({ width: Math.max(MIN_WIDTH, now), height });
    });
  });
  function destroy() {
    observer.disconnect();
    cancelAnimationFrame(frame);
    chart.destroy();
  }
  observer.observe(el);
  return destroy;
}

// Stack series bottom-up: series k draws the sum of the first k (nulls count as 0).
function stack(series) {
  const acc = new Array(series[0]?.length || 0).fill(0);
  return series.map((values) => values.map((v, i) => (acc[i] += v === null ? 0 : Number(v))));
}

// Room for the longest tick label of the value axis (uPlot's default font is 12px).
function axisWidth(u, labels) {
  return labels ? Math.max(40, ...labels.map((l) => l.length * 7 + 18)) : 40;
}

function plotted(values) {
  return values.map((v) => (v === null ? null : Number(v)));
}

/**
 * A time series chart. xs: bucket starts (s); end: last bucket end (s);
 * series: [{label, values}]; stacked: draw sums bottom-up (additive aggregations).
 */
export function timeChart(el, { xs, end, series, stacked, tz, unit, height = 320, legend = true }) {
  el.replaceChildren();
  const raw = series.map((s) => [...s.values, s.values.at(-1) ?? null]);
  const drawn = stacked ? stack(raw) : raw.map(plotted);
  const stepped = uPlot().paths.stepped({ align: 1 });
  const colours = seriesColours(series.length);
  const opts = {
    width: widthOf(el, 600),
    height,
    tzDate: (ts) => uPlot().tzDate(new Date(ts * 1e3), tz),
    scales: { x: { time: true } },
    axes: [{}, { values: (u, ticks) => axisLabels(unit)(ticks), size: axisWidth }],
    legend: { show: legend, live: true },
    series: [
      { label: "bucket start" },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: colours[i].stroke,
        fill: stacked ? colours[i].fill : undefined,
        width: 1.5,
        paths: stepped,
        points: { show: false },
        value: (u, v, si, di) => (di === null ? "–" : quantity(raw[si - 1][di], unit).text),
      })),
    ],
    bands: stacked ? series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] })) : [],
  };
  const chart = new (uPlot())(opts, [[...xs, end], ...drawn], el);
  return { chart, destroy: fit(el, chart, height) };
}

// Counts per hour with both axes; starts are the hours' RFC 3339 starts, as the API gives them.
export function hourChart(el, { starts, values, tz }) {
  const xs = starts.map((s) => Date.parse(s) / 1000);
  return timeChart(el, { xs, end: (xs.at(-1) ?? 0) + 3600, series: [{ label: "accepted", values }],
    stacked: false, tz, unit: null, height: 180, legend: false });
}

// A small line without axes or legend, for the overview's meter cards.
export function sparkline(el, xs, values, color = PALETTE[0]) {
  el.replaceChildren();
  const height = 40;
  const opts = {
    width: widthOf(el, 200),
    height,
    cursor: { show: false },
    legend: { show: false },
    scales: { x: { time: false }, y: { range: (u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max : 1] } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: color, fill: `${color}22`, width: 1.5, points: { show: false },
      paths: uPlot().paths.stepped({ align: 1 }) }],
  };
  // One more x so the last bucket gets its width, as in timeChart.
  const ys = plotted(values);
  const chart = new (uPlot())(opts, [[...xs, xs.length], [...ys, ys.at(-1) ?? null]], el);
  return { chart, destroy: fit(el, chart, height) };
}

/**
 * Usage against a limit: one line of usage at instants xs (s; null where not reached yet)
 * and a dashed horizontal line for each of `lines` ([{label, value}]: the limit, thresholds).
 */
export function limitChart(el, { xs, usage, lines, tz, unit, height = 320 }) {
  el.replaceChildren();
  const colours = seriesColours(1 + lines.length);
  const flat = (value) => xs.map(() => Number(value));
  const opts = {
    width: widthOf(el, 600),
    height,
    tzDate: (ts) => uPlot().tzDate(new Date(ts * 1e3), tz),
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max ?? 0, 1) * 1.05] } },
    axes: [{}, { values: (u, ticks) => axisLabels(unit)(ticks), size: axisWidth }],
    legend: { show: true, live: true },
    series: [
      { label: "end of" },
      { label: "usage", stroke: colours[0].stroke, width: 2, points: { show: true, size: 5 },
        value: (u, v, si, di) => (di === null || usage[di] === null ? "–" : quantity(usage[di], unit).text) },
      ...lines.map((line, i) => ({
        label: line.label, stroke: colours[i + 1].stroke, width: 1.5, dash: [6, 4],
        points: { show: false }, value: () => quantity(line.value, unit).text,
      })),
    ],
  };
  const chart = new (uPlot())(opts, [xs, plotted(usage), ...lines.map((l) => flat(l.value))], el);
  return { chart, destroy: fit(el, chart, height) };
}
