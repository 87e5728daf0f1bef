// The header's facts about the sandbox and the tenant on screen (GET /__mock/about): version, seed,
// environment, account, and the tenant's clock, which ticks unless it is frozen.

import { fill, h, parisTime } from "./dom.js";

const fact = (name, value, id) => h("div", { class: "fact" }, h("dt", {}, name), h("dd", { id }, String(value)));

/** ``about`` null: no tenant on screen (the view of the calls without credentials), the version only. */
export function renderIdentity(elements, about, tenantRow, tenant, version) {
  const { identity, clockWarning } = elements;
  if (!about) {
    fill(identity, fact("version", version, "about-version"));
    clockWarning.hidden = true;
    return;
  }
  fill(
    identity,
    fact("version", about.version, "about-version"),
    fact("seed", tenantRow?.seed ?? about.seed, "about-seed"),
    fact("environment", about.environment, "about-environment"),
    fact("account", tenant.split("/")[0], "about-account"),
  );
  const warning = about.clock?.warning;
  clockWarning.hidden = !warning;
  clockWarning.textContent = warning ? `⚠ ${warning}` : "";
}

/** The clock as the header shows it; a real or shifted clock ticks. */
export function clockText(clock, fetchedAt) {
  if (!clock) return "";
  const elapsed = clock.mode === "frozen" ? 0 : (performance.now() - fetchedAt) / 1000;
  return `${parisTime(clock.epoch + elapsed)} · ${clock.mode}`;
}
