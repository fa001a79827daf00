// Hash routes (#/meter/cpu_time?range=7d...): page state is shareable, the key never is.

export function current() {
  const text = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = text.split("?");
  return { path: path || "/", params: new URLSearchParams(query) };
}

export function go(path, params) {
  const qs = params ? new URLSearchParams(params).toString() : "";
  const target = `#${path}${qs ? `?${qs}` : ""}`;
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else location.hash = target;
}

// Update the page state in the URL without re-rendering the page.
export function replaceParams(params) {
  const { path } = current();
  const qs = new URLSearchParams(params).toString();
  history.replaceState(null, "", `#${path}${qs ? `?${qs}` : ""}`);
}
