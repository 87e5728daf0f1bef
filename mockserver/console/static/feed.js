// The live request feed: one line per API request of the tenant, newest first, and the whole request and
// answer of the chosen one (tokens arrive masked: the journal masks them before it stores anything).

import { curlPanel } from "./curl.js";
import { arrival, fill, h, showBody, STATUS_SIGN, statusClass } from "./dom.js";

const MAX_SHOWN = 300;

export class Feed {
  constructor(list, detail, empty) {
    this.list = list;
    this.detail = detail;
    this.empty = empty;
    this.entries = new Map(); // id -> entry, for the detail view
    this.selected = null;
    this.clear();
  }

  clear() {
    this.entries.clear();
    this.selected = null;
    this.list.replaceChildren();
    this.empty.hidden = false;
    this.showDetail(null);
  }

  has(id) {
    return this.entries.has(String(id));
  }

  /** Add an entry at the top (entries arrive oldest first). */
  add(entry) {
    const id = String(entry.id);
    if (this.entries.has(id)) return;
    this.entries.set(id, entry);
    this.empty.hidden = true;
    this.list.prepend(this.line(entry));
    while (this.list.children.length > MAX_SHOWN) {
      const last = this.list.lastElementChild;
      this.entries.delete(last.dataset.entryId);
      last.remove();
    }
  }

  /** A line that is not a request: "tenant reset", "N entries skipped". */
  note(text) {
    this.empty.hidden = true;
    this.list.prepend(h("li", { class: "note" }, text));
  }

  line(entry) {
    const kind = statusClass(entry.status);
    const status = entry.status ? String(entry.status) : entry.fault || "no answer";
    const code = entry.error_code && entry.error_code !== "SUCCESS" ? entry.error_code : null;
    return h(
      "li",
      { dataset: { entryId: entry.id } },
      h(
        "button",
        {
          type: "button",
          class: `entry s${kind}`,
          dataset: { status: entry.status, kind },
          "aria-pressed": "false",
          onclick: () => this.showDetail(String(entry.id)),
        },
        h("span", { class: "status" }, h("span", { "aria-hidden": "true" }, `${STATUS_SIGN[kind]} `), status),
        h("span", { class: "method" }, entry.method),
        h("span", { class: "path" }, entry.path),
        code ? h("span", { class: "code" }, code) : null,
        entry.rule_id !== null && entry.rule_id !== undefined ? h("span", { class: "rule" }, `rule ${entry.rule_id}`) : null,
        h("time", { class: "at" }, arrival(entry.at)),
        entry.hint ? h("span", { class: "hint" }, entry.hint) : null,
      ),
    );
  }

  showDetail(id) {
    this.selected = id;
    for (const button of this.list.querySelectorAll("button.entry")) {
      button.setAttribute("aria-pressed", String(button.parentElement.dataset.entryId === id));
    }
    const entry = id === null ? null : this.entries.get(id);
    if (!entry) {
      fill(this.detail, h("p", { class: "muted" }, "Choose a request to see it whole."));
      return;
    }
    const kind = statusClass(entry.status);
    const query = Object.entries(entry.query || {});
    const headers = Object.entries(entry.headers || {});
    const answer = entry.response || {};
    fill(
      this.detail,
      h(
        "h3",
        {},
        h("span", { class: `badge s${kind}` }, `${STATUS_SIGN[kind]} ${entry.status || entry.fault || "no answer"}`),
        ` ${entry.method} ${entry.path}`,
      ),
      entry.hint ? h("p", { class: "hint-box" }, h("strong", {}, "Hint: "), h("span", { class: "hint-text" }, entry.hint)) : null,
      curlPanel(entry),
      h(
        "dl",
        { class: "facts" },
        fact("error_code", entry.error_code || "—"),
        fact("rule", entry.rule_id ?? "—"),
        entry.fault ? fact("fault", entry.fault) : null,
        fact("duration", `${entry.duration_ms} ms`),
        fact("tenant", entry.tenant),
        fact("received", `${new Date(entry.at * 1000).toISOString()} (real time)`),
      ),
      h("h4", {}, "Query"),
      query.length ? table(query) : h("p", { class: "muted" }, "(none)"),
      h("h4", {}, "Request headers"),
      headers.length ? table(headers) : h("p", { class: "muted" }, "(none)"),
      h("h4", {}, "Request body"),
      h("pre", { class: "body request-body" }, showBody(entry.body)),
      h("h4", {}, "Answer", answer.content_type ? h("span", { class: "muted content-type" }, ` · ${answer.content_type}`) : null),
      h("pre", { class: "body answer-body" }, showBody(answer.body)),
    );
  }
}

function fact(name, value) {
  return [h("dt", {}, name), h("dd", {}, String(value))];
}

function table(pairs) {
  return h(
    "table",
    { class: "pairs" },
    h(
      "tbody",
      {},
      pairs.map(([name, value]) =>
        h("tr", {}, h("th", { scope: "row" }, name), h("td", {}, typeof value === "string" ? value : JSON.stringify(value))),
      ),
    ),
  );
}
