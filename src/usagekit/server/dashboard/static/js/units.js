// Totals in units people read (hours, terabytes), the exact value kept for a hover title.

import { exactText } from "./exact.js";

// Time grows to hours at most: CPU and GPU time is reckoned in hours.
const TIME = [["ns", 1e-6], ["µs", 1e-3], ["ms", 1], ["s", 1e3], ["min", 6e4], ["h", 3.6e6]];
const BYTES = [["B", 1], ["kB", 1e3], ["MB", 1e6], ["GB", 1e9], ["TB", 1e12], ["PB", 1e15]];
const BINARY = [["B", 1], ["KiB", 2 ** 10], ["MiB", 2 ** 20], ["GiB", 2 ** 30], ["TiB", 2 ** 40],
  ["PiB", 2 ** 50]];
const ALIASES = { us: "µs", sec: "s", second: "s", seconds: "s", minute: "min", minutes: "min",
  hour: "h", hours: "h", byte: "B", bytes: "B", KB: "kB" };

const exactFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 20 });
const roundedFormats = [0, 1, 2].map((digits) =>
  new Intl.NumberFormat("en-US", { maximumFractionDigits: digits }));

// The ladder a unit climbs, from that unit up; null for counts of things (tokens, calls).
function ladderOf(unit) {
  const name = ALIASES[unit] || unit;
  for (const ladder of [TIME, BYTES, BINARY]) {
    const at = ladder.findIndex(([step]) => step === name);
    if (at >= 0) return ladder.slice(at).map(([step, size]) => [step, size / ladder[at][1]]);
  }
  return null;
}

// The step of the ladder a magnitude reaches (the unit itself below its first step).
function stepFor(ladder, magnitude) {
  return ladder.findLast(([, size]) => magnitude >= size) || ladder[0];
}

// Every digit, grouped: "9,223,372,036,854,775,810". Formatting the text keeps it exact.
export function exactNumber(value) {
  const text = exactText(value);
  return text === null ? "–" : exactFormat.format(text);
}

function withUnit(text, unit) {
  return unit ? `${text} ${unit}` : text;
}

// At least three significant digits, whole numbers from 100 up.
function rounded(x) {
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return roundedFormats[digits].format(x);
}

/** {text, title}: the value in the largest step of its unit it reaches, and exactly. */
export function quantity(value, unit) {
  const title = withUnit(exactNumber(value), unit);
  const ladder = unit ? ladderOf(unit) : null;
  if (!ladder || exactText(value) === null) return { text: title, title };
  const [step, size] = stepFor(ladder, Math.abs(Number(value)));
  return { text: `${rounded(Number(value) / size)} ${step}`, title };
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

/** Tick labels for a value axis: one step for all ticks, chosen by the largest. */
export function axisLabels(unit) {
  const ladder = unit ? ladderOf(unit) : null;
  return (ticks) => {
    if (!ladder) return ticks.map((t) => compact.format(t));
    const [step, size] = stepFor(ladder, Math.max(...ticks.map(Math.abs)));
    return ticks.map((t) => `${rounded(t / size)} ${step}`);
  };
}
