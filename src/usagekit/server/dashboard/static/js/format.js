// Numbers as people read them; exact values stay in titles, tables and CSV.

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 9 });

export function number(value) {
  if (value === null || value === undefined) return "–";
  return typeof value === "number" ? grouped.format(value) : String(value);
}

export function withUnit(value, unit) {
  return unit ? `${number(value)} ${unit}` : number(value);
}

export function raw(value) {
  return value === null || value === undefined ? "" : String(value);
}

export function when(iso) {
  return iso ? iso.replace("T", " ").replace(/\.\d+/, "") : "";
}

const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

export function short(value) {
  return compact.format(value);
}
