// The calls that carried no valid credentials (no token, a mistyped one, the other environment's key): the
// journal gives them no tenant, so no tenant's feed shows them. It is an integrator's most common first
// mistake, so the console counts them next to the tenant picker and shows them as a view of their own, read
// server-wide (GET /__mock/journal?unauthenticated=true and its stream; the journal masks their tokens).

import * as api from "./api.js";

/** The picker's value for this view: never a tenant's, which are always "space/name". */
export const VIEW = "unauthenticated";
export const FILTERS = { unauthenticated: "true" };
export const LABEL = "Calls without valid credentials";

/** How many such calls the journal holds; null on a server that refuses server-wide control calls. */
export async function count() {
  try {
    return (await api.get("journal/count", FILTERS)).count;
  } catch (error) {
    if (error.code === "INVALID_PARAMETER") return null; // --no-server-wide-control: the view is not offered
    throw error;
  }
}

/** The picker's option text and the badge: the count, and a sign when there is any. */
export function optionText(n) {
  return n === null ? LABEL : `${n ? "⚠ " : ""}${LABEL} (${n})`;
}

export function renderBadge(button, n, active) {
  button.hidden = n === null;
  button.dataset.count = String(n ?? 0);
  button.classList.toggle("alert", Boolean(n));
  button.setAttribute("aria-pressed", String(active));
  button.querySelector(".count").textContent = String(n ?? 0);
}

/** Switch the page between a tenant (week, controls, its feed) and this view (an explanation, the feed). */
export function showView(el, on, n) {
  document.body.dataset.view = on ? VIEW : "tenant";
  el.controls.hidden = el.week.hidden = on;
  el.unauthNote.hidden = !on;
  el.clock.parentElement.hidden = on; // no tenant, no tenant clock
  el.feedTitle.textContent = on ? LABEL : "Requests";
  el.feedEmpty.textContent = on
    ? "No call without valid credentials: every recent call carried a token the sandbox accepted."
    : "No API request yet: call the API and it shows here.";
  renderBadge(el.unauthBadge, n, on);
}
