// The range picker shared by the overview and meter pages: preset, custom dates, time zone.

import { field, h, select } from "./dom.js";
import { PRESETS, dateText, isoIn, rangeOf, today, zones } from "./time.js";

let zoneList = null;

export function readRange(params) {
  return {
    range: params.get("range") || "30d",
    tz: params.get("tz") || "UTC",
    start: params.get("start") || "",
    end: params.get("end") || "",
  };
}

// {from, to} as RFC 3339 in the chosen zone, as the API takes them.
export function resolve(state) {
  const { from, to } = rangeOf(state.range, state.tz, { from: state.start, to: state.end });
  return { from: isoIn(from, state.tz), to: isoIn(to, state.tz), fromMs: from, toMs: to };
}

export function rangeControls(state) {
  const preset = select("range", PRESETS, state.range);
  const t = today(state.tz);
  const start = h("input", { type: "date", name: "start", value: state.start || dateText({ ...t, d: t.d - 29 }) });
  const end = h("input", { type: "date", name: "end", value: state.end || dateText(t) });
  const custom = h("div", { class: "custom-dates", hidden: state.range !== "custom" },
    field("From (local date)", start), field("To (inclusive)", end));
  preset.addEventListener("change", () => { custom.hidden = preset.value !== "custom"; });
  zoneList = zoneList || h("datalist", { id: "zones" }, zones().map((z) => h("option", { value: z })));
  const tz = h("input", { name: "tz", value: state.tz, list: "zones", autocomplete: "off", spellcheck: "false" });
  return h("div", { class: "range" }, field("Range", preset), custom, field("Time zone", tz), zoneList);
}

export function rangeFromForm(form) {
  const data = new FormData(form);
  return {
    range: data.get("range"),
    tz: (data.get("tz") || "UTC").trim() || "UTC",
    start: data.get("range") === "custom" ? data.get("start") : "",
    end: data.get("range") === "custom" ? data.get("end") : "",
  };
}

export function validZone(tz) {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
