// The console: one tenant at a time, its identity, its week grid, its live request feed and its controls.
// Every piece of data comes from the public control API (api.js); the live parts from the journal stream.

import * as api from "./api.js";
import * as controls from "./controls.js";
import { $, addDays, dayLabel, fill, h } from "./dom.js";
import { Feed } from "./feed.js";
import * as identity from "./identity.js";
import { setUpLogin } from "./login.js";
import { follow, pauseWhenHidden } from "./stream.js";
import * as unauth from "./unauthenticated.js";
import { renderGrid, renderSlot, renderTabs } from "./week.js";

const POLL_MS = 15000; // a safety net for changes the journal does not show (control calls from elsewhere)
const WATCH_MS = 2000; // the clock and the count of calls without credentials: small reads, seen soon
const LIVE_DELAY_MS = 150; // gathers a burst of bookings into one re-fetch
const HISTORY_SECONDS = 3600; // how far back the feed starts (the stream sends at most its buffer, 500)

const state = {
  tenant: null, // a tenant's id, or unauth.VIEW for the calls no tenant owns
  generation: 0, // bumped on every tenant change: answers for an earlier tenant are dropped
  about: null,
  aboutAt: 0,
  tenants: [],
  calendars: [],
  calendarId: null,
  weekStart: null, // null: the tenant's today
  today: null, // the tenant's today as the last week answer gave it: a change means its clock moved
  clockSign: null, // what the last clock read said (mode, frozen instant, offset, data window)
  unauthCount: null, // calls without valid credentials (null: this server does not let us count them)
  week: null,
  slotId: null,
  rules: [],
  presets: {},
};

const el = {
  tenant: $("#tenant"),
  identity: $("#identity"),
  version: $("#about-version").textContent, // the page's own, for the view that shows no tenant
  clock: $("#clock-now"),
  clockWarning: $("#clock-warning"),
  connection: $("#connection"),
  tabs: $("#calendars"),
  grid: $("#grid"),
  range: $("#week-range"),
  slot: $("#slot-detail"),
  presets: $("#preset-list"),
  rules: $("#rule-list"),
  noRules: $("#no-rules"),
  toast: $("#toast"),
  login: $("#login"),
  controls: $("#controls"),
  week: $("#week"),
  unauthBadge: $("#unauth"),
  unauthNote: $("#unauth-note"),
  feedTitle: $("#feed-title"),
  feedEmpty: $("#feed-empty"),
};

const feed = new Feed($("#feed-list"), $("#entry-detail"), el.feedEmpty);
let stream = null;
const timers = {};

/** Run fn once after a short pause, however often it is asked for meanwhile. */
function soon(name, fn, delay = LIVE_DELAY_MS) {
  clearTimeout(timers[name]);
  timers[name] = setTimeout(fn, delay);
}

/** A message at the bottom of the page; it goes after a while, on a click, or with Escape. */
function say(text, isError = false) {
  el.toast.className = isError ? "toast error" : "toast";
  el.toast.setAttribute("role", isError ? "alert" : "status");
  el.toast.textContent = text;
  soon("toast", hush, isError ? 15000 : 5000);
}

function hush() {
  el.toast.textContent = "";
}

/** Whether an answer still belongs to the tenant on screen. */
const current = (generation) => generation === state.generation;
/** Whether a tenant is on screen (not the view of the calls without credentials). */
const onTenant = () => state.tenant !== null && state.tenant !== unauth.VIEW;

const tickets = {};
/** A new request of a kind; the returned check says whether it is still the newest of its kind (an answer
 * that arrives after a newer one's, say of the previous week, must not overwrite it). */
function ticket(kind) {
  const mine = (tickets[kind] = (tickets[kind] || 0) + 1);
  return () => tickets[kind] === mine;
}

// -- identity -------------------------------------------------------------------------------------

function renderIdentity() {
  const row = state.tenants.find((t) => t.tenant === state.tenant);
  identity.renderIdentity(el, state.about, row, state.tenant, el.version);
  tickClock();
}

function tickClock() {
  el.clock.textContent = state.about ? identity.clockText(state.about.clock, state.aboutAt) : "";
}

async function refreshAbout(generation = state.generation) {
  const newest = ticket("about");
  const about = await api.get("about", { tenant: state.tenant });
  if (!current(generation) || !newest()) return;
  state.about = about;
  state.aboutAt = performance.now();
  state.presets = about.presets;
  state.clockSign = clockSign(about.clock);
  renderIdentity();
  controls.prefillFreeze($("#freeze-at"), about.clock);
}

async function refreshTenants() {
  const rows = await api.get("tenants");
  state.tenants = rows;
  const names = rows.map((row) => row.tenant);
  if (state.tenant && !names.includes(state.tenant)) names.push(state.tenant);
  names.sort();
  if (state.unauthCount !== null) names.unshift(unauth.VIEW);
  const shown = [...el.tenant.options].map((option) => option.value);
  // Redrawn only when the list changed: this runs when the picker gets focus, just before it opens.
  if (names.join("\n") !== shown.join("\n")) {
    fill(
      el.tenant,
      names.map((name) => h("option", { value: name }, name === unauth.VIEW ? unauth.optionText(state.unauthCount) : name)),
    );
  }
  el.tenant.value = state.tenant;
}

/** The count of calls without valid credentials, on the badge and in the picker. */
async function refreshUnauthCount() {
  const count = await unauth.count();
  const offered = state.unauthCount !== null;
  state.unauthCount = count;
  unauth.renderBadge(el.unauthBadge, count, state.tenant === unauth.VIEW);
  const option = [...el.tenant.options].find((o) => o.value === unauth.VIEW);
  if (option) option.textContent = unauth.optionText(count);
  if (offered !== (count !== null)) await refreshTenants();
}

// -- calendars and the week ------------------------------------------------------------------------

async function loadCalendars(generation) {
  // GET /__mock/calendars, never /api/calendars: the console's own calls must not enter the journal, meet
  // rules, or use up a "next call". Ids need not be contiguous (an imported dataset numbers them as it likes).
  const { calendars } = await api.get("calendars", { tenant: state.tenant });
  if (!current(generation)) return;
  state.calendars = calendars;
  if (!calendars.some((c) => c.calendar_id === state.calendarId)) state.calendarId = calendars[0]?.calendar_id ?? null;
  renderTabs(el.tabs, calendars, state.calendarId, selectCalendar);
}

async function refreshWeek(generation = state.generation) {
  if (state.calendarId === null) {
    fill(el.grid, h("p", { class: "muted" }, "This tenant has no calendars."));
    return;
  }
  const newest = ticket("week");
  const asked = state.weekStart;
  const week = await api.get("week", { tenant: state.tenant, calendar_id: state.calendarId, start: asked, days: 7 });
  if (!current(generation) || !newest()) return;
  const moved = state.today !== null && week.today !== state.today;
  state.today = week.today;
  if (moved && asked !== null) {
    // The tenant's clock went to another day (a freeze, an advance, real time; from here or from elsewhere):
    // the grid follows it to the new today's week, where a rebased dataset has its slots.
    Object.assign(state, { weekStart: null, slotId: null });
    await refreshWeek(generation);
    return;
  }
  state.week = week;
  state.weekStart = week.start;
  el.grid.dataset.start = week.start;
  el.grid.dataset.calendarId = week.calendar.calendar_id;
  el.range.textContent = `${dayLabel(week.start)} – ${dayLabel(week.end)}`;
  renderGrid(el.grid, week, state.slotId, selectSlot);
  renderSlot(el.slot, week, state.slotId);
}

function selectCalendar(id) {
  state.calendarId = id;
  state.slotId = null;
  const hadFocus = el.tabs.contains(document.activeElement);
  renderTabs(el.tabs, state.calendars, id, selectCalendar);
  if (hadFocus) document.getElementById(`calendar-tab-${id}`)?.focus(); // the tabs were drawn anew
  remember();
  refreshWeek().catch(failed);
}

function selectSlot(id) {
  state.slotId = id;
  renderGrid(el.grid, state.week, id, selectSlot);
  renderSlot(el.slot, state.week, id);
  el.grid.querySelector(`[data-slot-id="${id}"]`)?.focus();
}

function moveWeek(days) {
  state.weekStart = days === null ? null : addDays(state.weekStart, days);
  state.slotId = null;
  refreshWeek().catch(failed);
}

// -- rules and presets -----------------------------------------------------------------------------

/** GET /__mock/clock: a change made by another client (a script, a test, another tab) shows here too. */
async function watchClock(generation = state.generation) {
  const clock = await api.get("clock", { tenant: state.tenant });
  if (!current(generation) || state.clockSign === null || clockSign(clock) === state.clockSign) return;
  await Promise.all([refreshAbout(generation), refreshWeek(generation)]);
}

/** What identifies a clock setting (a real or shifted clock's instant moves; this does not). */
const clockSign = (clock) => [clock.mode, clock.frozen_at, clock.offset_seconds, clock.data_from].join(" ");

async function refreshRules(generation = state.generation) {
  const newest = ticket("rules");
  const rules = await api.get("rules", { tenant: state.tenant });
  if (!current(generation) || !newest()) return;
  state.rules = rules;
  controls.renderRules(el.rules, el.noRules, consoleApi);
  controls.renderPresets(el.presets, consoleApi);
}

// -- the feed --------------------------------------------------------------------------------------

function showConnection(status) {
  const words = { connecting: "○ connecting…", live: "● live", retrying: "◌ reconnecting…", paused: "Ⅱ paused" };
  el.connection.textContent = words[status] || status;
  el.connection.dataset.state = status;
}

function onEntry(entry) {
  feed.add(entry);
  if (!onTenant()) {
    soon("unauth", () => refreshUnauthCount().catch(failed)); // the badge counts what the view shows
    return;
  }
  // A booking, move or cancellation: the grid follows (POST /api/appointment, PUT /api/appointment/{id}).
  if (entry.method !== "GET" && entry.path.startsWith("/api/appointment")) soon("week", () => refreshWeek().catch(failed));
  if (entry.rule_id !== null && entry.rule_id !== undefined) soon("rules", () => refreshRules().catch(failed), 300);
}

let lastSeen = null; // the newest entry id on screen: where the stream resumes

function startFeed(generation) {
  stream?.close();
  stream = null;
  feed.clear();
  lastSeen = null;
  openStream(generation);
}

function openStream(generation) {
  // The recent past comes from the stream itself (``since``), not from GET /__mock/journal: the stream sends
  // entries once every worker has committed them, in order, so resuming after the last one leaves no gap.
  stream = follow({
    filters: onTenant() ? { tenant: state.tenant } : unauth.FILTERS,
    after: lastSeen,
    since: HISTORY_SECONDS,
    onEntry: (entry) => {
      if (!current(generation)) return;
      lastSeen = String(entry.id);
      onEntry(entry);
    },
    onDropped: (info) => {
      if (!current(generation)) return;
      // Before any entry: the recent past was longer than the stream's buffer.
      if (!lastSeen) feed.note(`— ${info.dropped} older requests not shown —`);
      else feed.note(`— ${info.dropped} requests skipped (the console fell behind) —`);
    },
    onState: (status) => current(generation) && showConnection(status),
  });
}

pauseWhenHidden({
  ready: () => document.body.dataset.ready === "true", // not while the first tenant is still loading
  pause: () => {
    if (!stream) return;
    stream.close();
    stream = null;
    showConnection("paused");
  },
  resume: () => stream || openStream(state.generation),
});

// -- tenant ----------------------------------------------------------------------------------------

function remember() {
  if (!onTenant()) {
    history.replaceState(null, "", `#view=${unauth.VIEW}`);
    return;
  }
  const params = new URLSearchParams({ tenant: state.tenant });
  if (state.calendarId !== null) params.set("calendar", state.calendarId);
  history.replaceState(null, "", `#${params}`);
}

async function selectTenant(tenant) {
  state.generation += 1;
  const generation = state.generation;
  Object.assign(state, { tenant, week: null, slotId: null, weekStart: null, today: null, clockSign: null });
  Object.assign(state, { rules: [], calendars: [] });
  const isTenant = onTenant();
  document.title = `${isTenant ? tenant : unauth.LABEL} · tap4book-mock console`;
  unauth.showView(el, !isTenant, state.unauthCount);
  el.grid.dataset.tenant = tenant;
  $("#feed-list").dataset.tenant = tenant;
  fill(el.grid, h("p", { class: "muted" }, "Loading…"));
  await refreshTenants();
  if (!isTenant) {
    state.about = null;
    renderIdentity();
    remember();
    startFeed(generation);
    return;
  }
  await refreshAbout(generation);
  await loadCalendars(generation);
  remember();
  await Promise.all([refreshWeek(generation), refreshRules(generation), startFeed(generation)]);
}

function failed(error) {
  console.error(error);
  say(error.message || String(error), true);
}

/** What the controls need from the console. */
const consoleApi = {
  state,
  feed,
  /** Run one control action, say what it did, and show its effect everywhere. */
  async act(label, action) {
    try {
      say(`${label}…`);
      say((await action()) || `${label}: done`);
    } catch (error) {
      failed(error);
    } finally {
      await Promise.all([refreshAbout(), refreshRules(), refreshWeek()]).catch(failed);
    }
  },
};

// -- start -----------------------------------------------------------------------------------------

function start() {
  setUpLogin(el.login);
  const codes = JSON.parse($("#error-codes").textContent);
  const failNext = { method: $("#fail-method"), path: $("#fail-path"), code: $("#fail-code"), button: $("#fail-next") };
  controls.setUpFailNext(failNext, codes, consoleApi);
  controls.setUpClock(
    {
      freezeAt: $("#freeze-at"),
      freeze: $("#freeze"),
      hour: $("#advance-hour"),
      day: $("#advance-day"),
      real: $("#real-time"),
      rebase: $("#rebase"),
    },
    consoleApi,
  );
  controls.setUpReset($("#reset"), consoleApi);
  $("#prev-week").onclick = () => moveWeek(-7);
  $("#this-week").onclick = () => moveWeek(null);
  $("#next-week").onclick = () => moveWeek(7);
  $("#clear-feed").onclick = () => feed.clear();
  el.toast.onclick = hush;
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !el.login.open) hush();
  });
  el.tenant.onchange = () => selectTenant(el.tenant.value).catch(failed);
  el.tenant.onfocus = () => refreshTenants().catch(failed);
  setInterval(tickClock, 1000);
  setInterval(() => {
    if (document.visibilityState !== "visible" || !onTenant()) return;
    Promise.all([refreshWeek(), refreshRules(), refreshAbout()]).catch(failed);
  }, POLL_MS);
  setInterval(() => {
    if (document.visibilityState !== "visible" || !state.tenant) return;
    Promise.all([refreshUnauthCount(), onTenant() && watchClock()]).catch(failed);
  }, WATCH_MS);
  el.unauthBadge.onclick = () => selectTenant(unauth.VIEW).catch(failed);

  const wanted = new URLSearchParams(location.hash.slice(1));
  const calendar = Number(wanted.get("calendar"));
  if (calendar) state.calendarId = calendar;
  (async () => {
    // "default": the default account's default tenant, named without a server-wide call (a server started
    // with --no-server-wide-control refuses those).
    await refreshUnauthCount();
    const view = wanted.get("view") === unauth.VIEW ? unauth.VIEW : null;
    const tenant = view || wanted.get("tenant") || (await api.get("about", { tenant: "default" })).tenant;
    await selectTenant(tenant);
    document.body.dataset.ready = "true"; // for the browser tests: the first tenant is on screen
  })().catch(failed);
}

start();
