// Every call goes to the native API (/v1/...) with the signed-in key; numbers stay exact.

import { parseJson } from "./exact.js";
import { forget, getKey } from "./session.js";

export class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code;
    this.param = err.param;
  }
}

// params: an array of [name, value] pairs (repeatable names) or a plain object.
export function queryString(params) {
  const search = new URLSearchParams();
  const pairs = Array.isArray(params) ? params : Object.entries(params || {});
  for (const [name, value] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(name, v);
  }
  return search.toString();
}

export async function api(path, { method = "GET", params, body, accept, key } = {}) {
  const qs = queryString(params);
  const headers = { Authorization: `Bearer ${key || getKey()}`, Accept: accept || "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(qs ? `${path}?${qs}` : path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  if (res.status === 204) return null;
  if (!res.ok) {
    const parsed = await res.json().catch(() => null);
    if (res.status === 401 && !key) {
      forget();
      window.dispatchEvent(new Event("usagekit:signed-out"));
    }
    throw new ApiError(res.status, parsed);
  }
  const text = await res.text();
  if (text === "") return null; // 202 Accepted, say: nothing to read
  return accept === "text/csv" ? text : parseJson(text);
}

// Fetch every page of a cursor-paged list (up to `max` items).
export async function allPages(path, params, max = 5000) {
  const out = [];
  let cursor = null;
  do {
    const page = await api(path, { params: { ...params, cursor, limit: 1000 } });
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && out.length < max);
  return out;
}
