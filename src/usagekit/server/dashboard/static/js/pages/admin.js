// Admin pages (admin keys): meters, keys (the new secret shown once), tenants.

import { api } from "../api.js";
import { confirmAction, errorText, field, h, say, select, table } from "../dom.js";
import { when } from "../format.js";
import { session } from "../session.js";

const AGGREGATIONS = ["sum", "count", "unique_count", "min", "max", "avg", "latest"].map((a) => [a, a]);

function formValues(form) {
  return Object.fromEntries([...new FormData(form)].map(([k, v]) => [k, String(v).trim()]));
}

function onSubmit(form, action) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await action(formValues(form));
    } catch (err) {
      say(errorText(err), "error");
      const bad = err.param && form.querySelector(`[name="${err.param}"]`);
      if (bad) bad.focus();
    } finally {
      button.disabled = false;
    }
  });
}

// "name=path" lines (or commas) into a dimensions object.
export function parseDimensions(text) {
  const out = {};
  for (const part of text.split(/[\n,]/).map((p) => p.trim()).filter(Boolean)) {
    const [name, path] = part.split("=").map((p) => p.trim());
    out[name] = path || name;
  }
  return out;
}

export async function metersAdmin(main) {
  const form = h("form", { class: "controls stacked", "aria-labelledby": "new-meter" },
    h("h2", { id: "new-meter" }, "New meter"),
    field("Slug", h("input", { name: "slug", required: true, pattern: "[a-z0-9_.\\-]+", autocomplete: "off" })),
    field("Event type", h("input", { name: "event_type", required: true, autocomplete: "off" })),
    field("Aggregation", select("aggregation", AGGREGATIONS, "sum")),
    field("Value property", h("input", { name: "value_property", autocomplete: "off" }), "dotted path into data; not needed for count"),
    field("Dimensions", h("input", { name: "dimensions", autocomplete: "off" }), "name=path, comma-separated, e.g. project=project"),
    field("Unit", h("input", { name: "unit", autocomplete: "off" })),
    h("button", { type: "submit" }, "Create meter"));
  const list = h("section", { "aria-labelledby": "meter-list" }, h("h2", { id: "meter-list" }, "Meters"));
  main.replaceChildren(h("h1", {}, "Admin · Meters"), form, list);
  const refresh = async () => {
    const meters = await api("/v1/meters", { params: { include_presets: "true" } });
    const own = meters.filter((m) => !m.profile);
    const rows = own.map((m) => [
      h("a", { href: `#/meter/${encodeURIComponent(m.slug)}` }, m.slug), m.event_type, m.aggregation,
      m.value_property || "", Object.entries(m.dimensions).map(([k, v]) => `${k}=${v}`).join(", "), m.unit || "",
      h("button", { type: "button", class: "danger small", "aria-label": `Delete meter ${m.slug}`,
        onclick: async () => {
          if (!(await confirmAction(`Delete meter ${m.slug}? Its rollups go; the events stay.`, "Delete meter"))) return;
          try {
            await api(`/v1/meters/${encodeURIComponent(m.slug)}`, { method: "DELETE" });
            say(`Meter ${m.slug} deleted.`, "ok");
            await refresh();
          } catch (err) {
            say(errorText(err), "error");
          }
        } }, "Delete…"),
    ]);
    list.replaceChildren(list.firstChild,
      table("Meters", ["slug", "event type", "aggregation", "value", "dimensions", "unit", ""], rows, { id: "meters-table", stack: true }),
      h("p", { class: "muted" }, `${meters.length - own.length} profile preset meters are not listed; they cannot be deleted.`));
  };
  onSubmit(form, async (v) => {
    const body = { slug: v.slug, event_type: v.event_type, aggregation: v.aggregation,
      dimensions: parseDimensions(v.dimensions || "") };
    if (v.value_property) body.value_property = v.value_property;
    if (v.unit) body.unit = v.unit;
    await api("/v1/meters", { method: "POST", body });
    say(`Meter ${v.slug} created.`, "ok");
    form.reset();
    await refresh();
  });
  await refresh().catch((err) => say(errorText(err), "error"));
}

export async function keysAdmin(main) {
  const form = h("form", { class: "controls stacked", "aria-labelledby": "new-key" },
    h("h2", { id: "new-key" }, "New key"),
    session.isSuper ? field("Tenant", h("input", { name: "tenant", autocomplete: "off" }), "empty: this key's tenant") : null,
    field("Role", select("role", [["read", "read"], ["ingest", "ingest"], ["admin", "admin"]], "read")),
    field("Subject", h("input", { name: "subject", autocomplete: "off" }), "optional: the key sees only this subject"),
    field("Name", h("input", { name: "name", autocomplete: "off" })),
    h("button", { type: "submit" }, "Create key"));
  const secret = h("div", { id: "new-secret", "aria-live": "polite" });
  const list = h("section", { "aria-labelledby": "key-list" }, h("h2", { id: "key-list" }, "Keys"));
  main.replaceChildren(h("h1", {}, "Admin · Keys"), form, secret, list);
  const refresh = async () => {
    const keys = await api("/v1/keys");
    const rows = keys.map((k) => [k.id, k.name || "", k.role, k.subject || "", `${k.prefix}…`, when(k.created),
      k.revoked ? h("span", { class: "badge voided" }, `revoked ${when(k.revoked)}`)
        : h("button", { type: "button", class: "danger small", "aria-label": `Revoke key ${k.id}`,
          onclick: async () => {
            if (!(await confirmAction(`Revoke key ${k.id}${k.name ? ` (${k.name})` : ""}? It stops working at once.`, "Revoke key"))) return;
            try {
              await api(`/v1/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
              say(`Key ${k.id} revoked.`, "ok");
              await refresh();
            } catch (err) {
              say(errorText(err), "error");
            }
          } }, "Revoke…")]);
    list.replaceChildren(list.firstChild,
      table("Keys", ["id", "name", "role", "subject", "prefix", "created", ""], rows, { id: "keys-table", stack: true }));
  };
  onSubmit(form, async (v) => {
    const body = { role: v.role };
    for (const name of ["tenant", "subject", "name"]) if (v[name]) body[name] = v[name];
    const made = await api("/v1/keys", { method: "POST", body });
    const code = h("code", { id: "secret-value" }, made.key);
    const copy = h("button", { type: "button", class: "small", onclick: async () => {
      try { await navigator.clipboard.writeText(made.key); say("Copied.", "ok"); } catch { say("Select the key and copy it.", "error"); }
    } }, "Copy");
    secret.replaceChildren(h("div", { class: "secret", role: "alert" },
      h("p", {}, h("strong", {}, `Key ${made.id} for tenant ${made.tenant} (${made.role}). `),
        "This secret is shown once; store it now."), h("p", {}, code, " ", copy)));
    form.reset();
    await refresh();
  });
  await refresh().catch((err) => say(errorText(err), "error"));
}

export async function tenantsAdmin(main) {
  if (!session.isSuper) {
    main.replaceChildren(h("h1", {}, "Admin · Tenants"),
      h("p", {}, "Only admin keys of tenant 'default' manage tenants."));
    return;
  }
  const form = h("form", { class: "controls", "aria-labelledby": "new-tenant" },
    h("h2", { id: "new-tenant" }, "New tenant"),
    field("Name", h("input", { name: "name", required: true, autocomplete: "off" })),
    h("button", { type: "submit" }, "Create tenant"));
  const list = h("section", { "aria-labelledby": "tenant-list" }, h("h2", { id: "tenant-list" }, "Tenants"));
  main.replaceChildren(h("h1", {}, "Admin · Tenants"), form, list,
    h("p", { class: "muted" }, "Create a tenant's first key under Keys, naming the tenant."));
  const refresh = async () => {
    const tenants = await api("/v1/tenants");
    list.replaceChildren(list.firstChild,
      table("Tenants", ["id", "name", "created"], tenants.map((t) => [String(t.id), t.name, when(t.created)]), { id: "tenants-table" }));
  };
  onSubmit(form, async (v) => {
    await api("/v1/tenants", { method: "POST", body: { name: v.name } });
    say(`Tenant ${v.name} created.`, "ok");
    form.reset();
    await refresh();
  });
  await refresh().catch((err) => say(errorText(err), "error"));
}
