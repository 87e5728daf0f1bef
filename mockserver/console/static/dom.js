// Small DOM and formatting helpers. Every text goes in through textContent, never innerHTML: journal
// entries carry whatever a client sent (paths, headers, bodies), and none of it may become markup.

/** The sandbox's time zone: its timestamps and slot times are Paris time (docs/interpretation.md). */
export const TZ = "Europe/Paris";

/** h("button", {class: "x", onclick: f, "aria-label": "..."}, "text", child...) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (selector, root = document) => root.querySelector(selector);

const pad = (n) => String(n).padStart(2, "0");

/** "2025-06-07" + n days, in calendar days (no time zone involved). */
export function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  const t = new Date(Date.UTC(y, m - 1, d + n));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

const DAY_FORMAT = new Intl.DateTimeFormat("en-GB", { weekday: "short", day: "numeric", month: "short", timeZone: "UTC" });
const LONG_DAY_FORMAT = new Intl.DateTimeFormat("en-GB", {
  weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
});

/** "Sat 7 Jun" for "2025-06-07". */
export function dayLabel(day, long = false) {
  const [y, m, d] = day.split("-").map(Number);
  return (long ? LONG_DAY_FORMAT : DAY_FORMAT).format(new Date(Date.UTC(y, m - 1, d)));
}

/** "08:30" for "08:30:00". */
export const hhmm = (time) => (time || "").slice(0, 5);

const CLOCK_FORMAT = new Intl.DateTimeFormat("en-GB", {
  weekday: "short", day: "numeric", month: "short", year: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23", timeZone: TZ,
});

/** An instant (epoch seconds) as the sandbox shows it: Paris time. */
export const parisTime = (epoch) => CLOCK_FORMAT.format(new Date(epoch * 1000));

const TIME_FORMAT = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });

/** When a request arrived (real time, the viewer's zone). */
export const arrival = (epoch) => TIME_FORMAT.format(new Date(epoch * 1000));

/** Minutes east of UTC of a zone at an instant (ms). */
function zoneOffset(epochMs, zone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(epochMs));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return Math.round((asUtc - epochMs) / 60000);
}

/** "2025-06-07T15:30" (Paris wall time, as a datetime-local input gives it) -> "2025-06-07T15:30:00+02:00". */
export function parisWallToIso(wall) {
  const [day, time] = wall.split("T");
  const [y, m, d] = day.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  let offset = zoneOffset(guess, TZ);
  offset = zoneOffset(guess - offset * 60000, TZ); // the offset in force at that wall time (summer/winter)
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${day}T${pad(hh)}:${pad(mm)}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** An instant (epoch seconds) as a datetime-local value in Paris time: "2025-06-07T15:30". */
export function parisWall(epoch) {
  const ms = epoch * 1000;
  const t = new Date(ms + zoneOffset(ms, TZ) * 60000);
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}T${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}`;
}

/** A request or answer body for a <pre>: JSON pretty-printed, text as it is. */
export function showBody(body) {
  if (body === null || body === undefined || body === "") return "(empty)";
  if (typeof body === "string") return body;
  return JSON.stringify(body, null, 2);
}

/** Status class of an HTTP status: "2xx" ... "5xx", or "fault" for a connection that got no answer. */
export function statusClass(status) {
  return status >= 100 ? `${Math.floor(status / 100)}xx` : "fault";
}

/** A sign for each status class, so that colour is never the only signal. */
export const STATUS_SIGN = { "2xx": "✓", "3xx": "↪", "4xx": "⚠", "5xx": "✕", fault: "⚡" };
