// Time ranges in an IANA zone, with Intl only: presets, local midnights, RFC 3339 text.

const HOUR = 3_600_000;
const formatters = new Map();

function partsOf(ms, tz) {
  let fmt = formatters.get(tz);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit",
    });
    formatters.set(tz, fmt);
  }
  const out = {};
  for (const p of fmt.formatToParts(new Date(ms))) out[p.type] = Number(p.value);
  return out;
}

// The zone's offset from UTC at an instant, in ms.
export function offsetMs(ms, tz) {
  const p = partsOf(ms, tz);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ms / 1000) * 1000;
}

// The instant of local midnight of y-m-d in tz (month 1-12; days may overflow).
export function localMidnight(y, m, d, tz) {
  const wall = Date.UTC(y, m - 1, d);
  let t = wall - offsetMs(wall, tz);
  t = wall - offsetMs(t, tz);
  return t;
}

export function today(tz, now = Date.now()) {
  const p = partsOf(now, tz);
  return { y: p.year, m: p.month, d: p.day };
}

const pad = (n, w = 2) => String(Math.abs(n)).padStart(w, "0");

// RFC 3339 in the zone's offset at that instant ("Z" for UTC), to the second.
export function isoIn(ms, tz) {
  const off = offsetMs(ms, tz);
  const wall = new Date(ms + off).toISOString().slice(0, 19);
  if (off === 0) return `${wall}Z`;
  const mins = Math.round(Math.abs(off) / 60000);
  return `${wall}${off < 0 ? "-" : "+"}${pad(Math.floor(mins / 60))}:${pad(mins % 60)}`;
}

export function dateText({ y, m, d }) {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.toISOString().slice(0, 10);
}

function parseDate(text) {
  const [y, m, d] = text.split("-").map(Number);
  return { y, m, d };
}

export const PRESETS = [
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["mtd", "Month to date"],
  ["custom", "Custom dates"],
];

// [from, to) in ms for a preset in tz; custom takes inclusive local dates.
export function rangeOf(preset, tz, custom = {}, now = Date.now()) {
  const t = today(tz, now);
  switch (preset) {
    case "24h": {
      const local = now + offsetMs(now, tz);
      const to = now - (local % HOUR) + HOUR;
      return { from: to - 24 * HOUR, to };
    }
    case "7d":
      return { from: localMidnight(t.y, t.m, t.d - 6, tz), to: localMidnight(t.y, t.m, t.d + 1, tz) };
    case "mtd":
      return { from: localMidnight(t.y, t.m, 1, tz), to: localMidnight(t.y, t.m, t.d + 1, tz) };
    case "custom": {
      if (custom.from && custom.to) {
        const a = parseDate(custom.from);
        const b = parseDate(custom.to);
        return { from: localMidnight(a.y, a.m, a.d, tz), to: localMidnight(b.y, b.m, b.d + 1, tz) };
      }
      return rangeOf("30d", tz, {}, now);
    }
    default:
      return { from: localMidnight(t.y, t.m, t.d - 29, tz), to: localMidnight(t.y, t.m, t.d + 1, tz) };
  }
}

export function defaultGranularity(preset) {
  return preset === "24h" ? "hour" : "day";
}

export function zones() {
  const list = Intl.supportedValuesOf ? Intl.supportedValuesOf("timeZone") : [];
  return ["UTC", ...list.filter((z) => z !== "UTC")];
}

export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}
