// The controls, each one control API call scoped to the chosen tenant: presets on/off, "the next call
// fails with CODE", the clock, reset, and the active rules with their hit counts.

import * as api from "./api.js";
import { fill, h, parisTime, parisWall, parisWallToIso } from "./dom.js";

/** Presets applied in this tab that change data and add no rule (fully-booked): nothing in the control API
 * says they are on, so the console remembers them until the tenant is reset. */
const dataPresets = new Map(); // tenant -> Set(name)

function appliedData(tenant) {
  if (!dataPresets.has(tenant)) dataPresets.set(tenant, new Set());
  return dataPresets.get(tenant);
}

export function forgetDataPresets(tenant) {
  dataPresets.delete(tenant);
}

/** One switch per preset: on = POST /__mock/scenarios/{name}, off = DELETE /__mock/rules?preset={name}. */
export function renderPresets(container, console_) {
  const { presets, rules, tenant } = console_.state;
  const switches = Object.entries(presets).map(([name, description]) => {
    const mine = rules.filter((r) => r.preset === name && r.tenant === tenant);
    const everywhere = rules.some((r) => r.preset === name && r.tenant === null);
    const on = mine.length > 0 || appliedData(tenant).has(name);
    return h(
      "button",
      {
        type: "button",
        role: "switch",
        class: "preset",
        "aria-checked": String(on),
        dataset: { preset: name },
        title: description,
        "aria-describedby": `preset-note-${name}`,
        onclick: () => console_.act(on ? `${name} off` : `${name} on`, () => togglePreset(name, on, tenant)),
      },
      h("span", { class: "preset-name" }, name),
      h("span", { class: "switch-state" }, on ? "on" : "off"),
      h("span", { id: `preset-note-${name}`, class: "visually-hidden" }, description),
      everywhere ? h("span", { class: "muted" }, " (also on for every tenant)") : null,
    );
  });
  fill(container, switches);
}

/** Turn a preset off when it is on, on when it is off. */
async function togglePreset(name, isOn, tenant) {
  if (isOn) {
    const { removed } = await api.del("rules", { preset: name, tenant });
    const changedData = appliedData(tenant).delete(name);
    if (changedData && !removed) return `${name} changed the data itself: Reset tenant restores it.`;
    return `${name} off (${removed} rule${removed === 1 ? "" : "s"} removed)`;
  }
  const loaded = await api.post(`scenarios/${encodeURIComponent(name)}`, { tenant });
  if (!loaded.rules.length) appliedData(tenant).add(name);
  const added = loaded.appointments_added ? `, ${loaded.appointments_added} appointments added` : "";
  return `${name} on${added}`;
}

const ANY = "any";

/** "The next METHOD PATH fails with CODE": one rule that fires once. Aimed at one call, by default the next
 * booking, so that a front end's refresh GET in between does not take the failure meant for the booking.
 * ``codes``: every code a rule can answer ([[code, status], ...]). */
export function setUpFailNext({ method, path, code, button }, codes, console_) {
  fill(
    code,
    codes.map(([name, status]) => h("option", { value: name }, `${name} (${status})`)),
  );
  code.value = "INTERNAL_ERROR";
  fill(
    method,
    ["POST", "GET", "PUT", "DELETE", ANY].map((name) => h("option", { value: name }, name)),
  );
  method.value = "POST";
  path.value = "/api/appointment";
  button.onclick = () =>
    console_.act("fail next call", async () => {
      const tenant = console_.state.tenant;
      const rule = { path: path.value.trim() || "/api/*", error_code: code.value, times: 1, tenant };
      if (method.value !== ANY) rule.method = method.value;
      const made = await api.post("rules", rule);
      const what = `${rule.method || "call to"} ${rule.path}`;
      return `Rule ${made.id}: the next ${what} of ${tenant} fails with ${rule.error_code}`;
    });
}

/** The clock: freeze at a Paris time, +1 h, +1 day, back to real time. */
export function setUpClock(elements, console_) {
  const { freezeAt, freeze, hour, day, real, rebase } = elements;
  const scoped = (extra) => ({ tenant: console_.state.tenant, ...extra, ...(rebase.checked ? { rebase: true } : {}) });
  const said = (clock, verb) => `Clock ${verb}: ${parisTime(clock.epoch)} (${clock.mode})`;
  freeze.onclick = () =>
    console_.act("freeze", async () => {
      const body = freezeAt.value ? { at: parisWallToIso(freezeAt.value) } : {};
      return said(await api.post("clock/freeze", scoped(body)), "frozen");
    });
  hour.onclick = () => console_.act("+1 h", async () => said(await api.post("clock/advance", scoped({ by: "1h" })), "+1 h"));
  day.onclick = () => console_.act("+1 day", async () => said(await api.post("clock/advance", scoped({ by: "1d" })), "+1 day"));
  real.onclick = () =>
    console_.act("real time", async () => {
      const clock = await api.post("clock/real", scoped({}));
      // The tenant follows the server's clock again, which is frozen itself on a server started with --now.
      return said(clock, clock.mode === "real" ? "back to real time" : "back to the server's clock");
    });
}

export function prefillFreeze(input, clock) {
  if (clock && document.activeElement !== input) input.value = parisWall(clock.epoch);
}

export function setUpReset(button, console_) {
  button.onclick = () =>
    console_.act("reset", async () => {
      const tenant = console_.state.tenant;
      const result = await api.post("reset", { tenant });
      forgetDataPresets(tenant);
      const rules = `${result.rules_removed} rule${result.rules_removed === 1 ? "" : "s"}`;
      console_.feed.note(`— ${tenant} reset: seeded data back, ${rules} removed, journal cleared —`);
      return `${tenant} reset (${result.duration_ms} ms)`;
    });
}

function describeRule(rule) {
  const methods = rule.method ? [].concat(rule.method).join("|") : "any";
  const query = rule.query ? ` ?${new URLSearchParams(rule.query)}` : "";
  let outcome = "";
  if (rule.error_code) outcome = rule.error_code;
  else if (rule.status) outcome = `status ${rule.status}`;
  else if (rule.fault) outcome = rule.fault;
  if (rule.delay_ms !== undefined && rule.delay_ms !== null) {
    const delay = Array.isArray(rule.delay_ms) ? rule.delay_ms.join("–") : rule.delay_ms;
    outcome = outcome ? `${outcome}, +${delay} ms` : `+${delay} ms`;
  }
  const chance = rule.probability !== undefined && rule.probability !== null ? ` · p=${rule.probability}` : "";
  return `${methods} ${rule.path}${query} → ${outcome || "?"}${chance}`;
}

/** The tenant's rules (and the server-wide ones), with hits; a Delete button each. */
export function renderRules(list, empty, console_) {
  const { rules, tenant } = console_.state;
  empty.hidden = rules.length > 0;
  fill(
    list,
    rules.map((rule) => {
      const spent = rule.times !== null && rule.times !== undefined && rule.hits >= rule.times;
      const hits = rule.times ? `hits: ${rule.hits} of ${rule.times}` : `hits: ${rule.hits}`;
      return h(
        "li",
        { class: spent ? "rule spent" : "rule", dataset: { ruleId: rule.id } },
        h("span", { class: "rule-id" }, `#${rule.id}`),
        h("span", { class: "rule-what" }, describeRule(rule)),
        h("span", { class: "hits", dataset: { hits: rule.hits } }, hits),
        spent ? h("span", { class: "muted" }, "spent") : null,
        rule.preset ? h("span", { class: "tag" }, rule.preset) : null,
        rule.tenant === null ? h("span", { class: "tag" }, "every tenant") : null,
        h(
          "button",
          {
            type: "button",
            class: "delete",
            "aria-label": `Delete rule ${rule.id}`,
            onclick: () =>
              console_.act(`delete rule ${rule.id}`, async () => {
                // A server-wide rule is removed server-wide: a tenant-scoped delete only reaches the tenant's own.
                await api.del(`rules/${rule.id}`, rule.tenant === null ? {} : { tenant });
                return `Rule ${rule.id} deleted`;
              }),
          },
          "Delete",
        ),
      );
    }),
  );
}
