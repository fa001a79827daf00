// The API key lives in sessionStorage only (gone when the tab closes; never in a URL).

const KEY = "usagekit.key";

export const session = { role: null, canRead: false, isAdmin: false, isSuper: false };

export function getKey() {
  return sessionStorage.getItem(KEY);
}

export function setKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function forget() {
  sessionStorage.removeItem(KEY);
  Object.assign(session, { role: null, canRead: false, isAdmin: false, isSuper: false });
}
