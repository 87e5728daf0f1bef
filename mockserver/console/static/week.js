// The week grid of one calendar (GET /__mock/week): a column per day, a button per slot, coloured and
// labelled by its state, and the appointments of the chosen slot.

import { addDays, dayLabel, fill, h, hhmm } from "./dom.js";

/** Each state's sign and words: colour is never the only signal. */
export const STATES = {
  free: { sign: "○", label: "free" },
  partial: { sign: "◐", label: "partly booked" },
  full: { sign: "●", label: "full" },
  past: { sign: "–", label: "past" },
  closed: { sign: "✕", label: "closed" },
};

function placesText(slot) {
  return `${slot.booked_appointments} of ${slot.capacity} place${slot.capacity === 1 ? "" : "s"} booked`;
}

/** Calendar tabs: a tablist, arrow keys move between tabs. */
export function renderTabs(container, calendars, selectedId, onSelect) {
  const tabs = calendars.map((calendar) =>
    h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `calendar-tab-${calendar.calendar_id}`,
        "aria-selected": String(calendar.calendar_id === selectedId),
        "aria-controls": "grid",
        tabindex: calendar.calendar_id === selectedId ? "0" : "-1",
        dataset: { calendarId: calendar.calendar_id },
        onclick: () => onSelect(calendar.calendar_id),
        title: calendar.timezone ? `Time zone ${calendar.timezone}` : null,
      },
      calendar.calendar_name,
      calendar.is_active === false ? h("span", { class: "inactive" }, " (inactive)") : null,
    ),
  );
  container.onkeydown = (event) => {
    const index = tabs.indexOf(document.activeElement);
    if (index < 0) return;
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
    let next = null;
    if (step) next = (index + step + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    if (next === null) return;
    event.preventDefault();
    tabs[next].focus();
    tabs[next].click();
  };
  fill(container, tabs);
}

/** The grid: one column per day from week.start to week.end, today marked. */
export function renderGrid(container, week, selectedSlotId, onSlot) {
  if (!week.slots.length) {
    const why = week.calendar.is_active ? "" : " (the calendar is inactive)";
    fill(container, h("p", { class: "muted no-week" }, `No slots this week${why}.`));
    return;
  }
  const byDay = new Map();
  for (const slot of week.slots) {
    if (!byDay.has(slot.date)) byDay.set(slot.date, []);
    byDay.get(slot.date).push(slot);
  }
  const columns = [];
  for (let day = week.start; day <= week.end; day = addDays(day, 1)) {
    const slots = byDay.get(day) || [];
    const isToday = day === week.today;
    columns.push(
      h(
        "section",
        { class: `day${isToday ? " today" : ""}`, "aria-label": `${dayLabel(day, true)}${isToday ? " (today)" : ""}` },
        h("h3", {}, dayLabel(day), isToday ? h("span", { class: "today-mark" }, " · today") : null),
        slots.length
          ? h(
              "ul",
              { class: "slots" },
              slots.map((slot) => {
                const state = STATES[slot.state] || { sign: "?", label: slot.state };
                const count = slot.capacity > 1 ? `${slot.booked_appointments}/${slot.capacity}` : state.label;
                return h(
                  "li",
                  {},
                  h(
                    "button",
                    {
                      type: "button",
                      class: `slot ${slot.state}`,
                      dataset: { slotId: slot.slot_id, state: slot.state },
                      "aria-pressed": String(slot.slot_id === selectedSlotId),
                      "aria-label": `${dayLabel(day, true)} ${hhmm(slot.start_time)} to ${hhmm(slot.end_time)}: ${state.label}, ${placesText(slot)}`,
                      onclick: () => onSlot(slot.slot_id),
                    },
                    h("span", { class: "time" }, hhmm(slot.start_time)),
                    h("span", { class: "state", "aria-hidden": "true" }, `${state.sign} ${count}`),
                  ),
                );
              }),
            )
          : h("p", { class: "no-slots" }, "No slots"),
      ),
    );
  }
  fill(container, columns);
}

/** The chosen slot's appointments, with client names and statuses. */
export function renderSlot(container, week, slotId) {
  const slot = slotId === null ? null : week?.slots.find((s) => s.slot_id === slotId);
  if (!slot) {
    fill(container, h("p", { class: "muted" }, "Choose a slot to see its appointments."));
    return;
  }
  const state = STATES[slot.state] || { sign: "?", label: slot.state };
  fill(
    container,
    h(
      "h3",
      {},
      `${dayLabel(slot.date, true)}, ${hhmm(slot.start_time)}–${hhmm(slot.end_time)} `,
      h("span", { class: `badge ${slot.state}` }, `${state.sign} ${state.label}`),
    ),
    h("p", { class: "muted" }, `Slot ${slot.slot_id} · ${placesText(slot)}`),
    slot.appointments.length
      ? h(
          "ul",
          { class: "appointments" },
          slot.appointments.map((a) =>
            h(
              "li",
              { dataset: { appointmentId: a.appointment_id, status: a.status } },
              h("strong", { class: "client" }, a.client_name),
              " ",
              h("span", { class: `appointment-status ${a.status}` }, a.status),
              h("span", { class: "muted" }, ` · #${a.appointment_id} · ${a.client_email}`),
            ),
          ),
        )
      : h("p", {}, "No appointments."),
  );
}
