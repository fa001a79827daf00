// Small DOM helpers: build elements, tables, and messages without a framework.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "text") el.textContent = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name in el && typeof value !== "string") el[name] = value;
    else el.setAttribute(name, value === true ? "" : value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

// Body cells, each labelled with its column: narrow screens show a row as label/value lines.
export function cells(headers, values) {
  return values.map((c, i) => h("td", { "data-label": headers[i] }, c));
}

// stack: on narrow screens each row becomes a block of label/value lines (rows with buttons).
export function table(caption, headers, rows, { id, stack } = {}) {
  return h(
    "div",
    { class: stack ? "table-wrap stack" : "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    h(
      "table",
      { id },
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((name) => h("th", { scope: "col" }, name)))),
      h("tbody", {}, rows.map((values) => h("tr", {}, cells(headers, values)))),
    ),
  );
}

const status = () => document.getElementById("status");

export function say(text, kind = "info") {
  const box = status();
  box.className = `status ${kind}`;
  box.textContent = text;
}

export function clearSay() {
  say("");
}

export function errorText(err) {
  return err && err.message ? err.message : String(err);
}

// A modal question; resolves true when the person confirms.
export function confirmAction(text, okLabel = "Confirm") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control,
    hint ? h("small", { class: "hint" }, hint) : null);
}

export function select(name, options, value) {
  return h("select", { name },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
}

export function json(value) {
  return JSON.stringify(value);
}
