// Charts with the vendored uPlot (a global from /ui/vendor/uplot/uPlot.iife.min.js).

import { number, short } from "./format.js";

// Okabe-Ito: tellable apart with common colour-vision deficiencies.
export const PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
  "#7a6a00", "#000000", "#6a3d9a", "#b15928"];

const uPlot = () => window.uPlot;

function widthOf(el) {
  return Math.max(260, el.clientWidth || el.parentElement.clientWidth || 600);
}

// Stack series bottom-up: series k draws the sum of the first k (nulls count as 0).
function stack(series) {
  const acc = new Array(series[0]?.length || 0).fill(0);
  return series.map((values) => values.map((v, i) => (acc[i] += v === null ? 0 : Number(v))));
}

/**
 * A time series chart. xs: bucket starts (s); end: last bucket end (s);
 * series: [{label, values}]; stacked: draw sums bottom-up (additive aggregations).
 */
export function timeChart(el, { xs, end, series, stacked, tz, unit }) {
  el.replaceChildren();
  const raw = series.map((s) => [...s.values, s.values.at(-1) ?? null]);
  const x = [...xs, end];
  const drawn = stacked ? stack(raw) : raw;
  const stepped = uPlot().paths.stepped({ align: 1 });
  const opts = {
    width: widthOf(el),
    height: 320,
    tzDate: (ts) => uPlot().tzDate(new Date(ts * 1e3), tz),
    scales: { x: { time: true } },
    axes: [{}, { values: (u, ticks) => ticks.map((t) => short(t)), size: 60 }],
    legend: { live: true },
    series: [
      { label: "bucket start" },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: PALETTE[i % PALETTE.length],
        fill: stacked ? `${PALETTE[i % PALETTE.length]}99` : undefined,
        width: 1.5,
        paths: stepped,
        points: { show: false },
        value: (u, v, si, di) => (di === null ? "–" : `${number(raw[si - 1][di])}${unit ? ` ${unit}` : ""}`),
      })),
    ],
    bands: stacked ? series.slice(1).map((_, i) => ({ series: [i + 2, i + 1] })) : [],
  };
  const chart = new (uPlot())(opts, [x, ...drawn], el);
  const resize = () => chart.setSize({ width: widthOf(el), height: 320 });
  window.addEventListener("resize", resize);
  return { chart, destroy: () => { window.removeEventListener("resize", resize); chart.destroy(); } };
}

// A small line without axes or legend, for the overview's meter cards.
export function sparkline(el, xs, values, color = PALETTE[0]) {
  el.replaceChildren();
  const opts = {
    width: Math.max(120, el.clientWidth || 200),
    height: 40,
    cursor: { show: false },
    legend: { show: false },
    scales: { x: { time: false }, y: { range: (u, min, max) => [Math.min(0, min ?? 0), max > 0 ? max : 1] } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: color, fill: `${color}22`, width: 1.5, points: { show: false },
      paths: uPlot().paths.stepped({ align: 1 }) }],
  };
  // One more x so the last bucket gets its width, as in timeChart.
  const ys = values.map((v) => (v === null ? null : Number(v)));
  return new (uPlot())(opts, [[...xs, xs.length], [...ys, ys.at(-1) ?? null]], el);
}
