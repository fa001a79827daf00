// Numbers as people read them; exact values stay in titles, tables and CSV.

import { h } from "./dom.js";
import { exactNumber, quantity } from "./units.js";

export function number(value) {
  return exactNumber(value);
}

// A value in human units, its exact value (every digit) in the title.
export function amount(value, unit, attrs = {}) {
  const { text, title } = quantity(value, unit);
  return h("span", { ...attrs, title }, text);
}

export function raw(value) {
  return value === null || value === undefined ? "" : String(value);
}

export function when(iso) {
  return iso ? iso.replace("T", " ").replace(/\.\d+/, "") : "";
}
