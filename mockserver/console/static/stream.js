// GET /__mock/journal/stream, read with fetch() and a small Server-Sent Events parser rather than
// EventSource: EventSource cannot send headers, and the stream needs X-Mock-Admin-Token on a server started
// with --admin-token (a token in the URL would land in access logs and the browser's history). Reading the
// stream ourselves also lets us resume with Last-Event-ID after any cut, exactly as EventSource would.

import { adminHeaders, controlUrl, isAuthFailure, login } from "./api.js";

/**
 * Follow the journal entries that match ``filters`` (the journal's query: {tenant} for one tenant's calls,
 * {unauthenticated: "true"} for the calls no tenant owns). Calls onEntry(entry) for each new entry, in journal
 * order, onDropped(info) when the server skipped entries for a slow reader, and onState("connecting" | "live" |
 * "retrying"). ``after``: resume after this entry id (none: from ``since`` seconds back). Returns {close()}.
 */
export function follow({ filters, after = null, since = 2, onEntry, onDropped = () => {}, onState = () => {} }) {
  const abort = new AbortController();
  let lastId = after;
  let retryMs = 1000;
  let closed = false;

  function dispatch(event) {
    if (event.retry !== undefined) retryMs = event.retry;
    if (event.data === undefined) return; // a comment or a heartbeat
    if (event.id) lastId = event.id;
    const data = JSON.parse(event.data);
    if (event.type === "entry") onEntry(data);
    else if (event.type === "dropped") {
      lastId = String(data.resume_after);
      onDropped(data);
    }
  }

  async function readOnce() {
    const headers = { Accept: "text/event-stream", ...adminHeaders() };
    const query = { ...filters };
    if (lastId) headers["Last-Event-ID"] = lastId;
    else query.since = since;
    const response = await fetch(controlUrl("journal/stream", query), { headers, signal: abort.signal, cache: "no-store" });
    if (!response.ok) {
      let envelope = null;
      try {
        envelope = await response.json();
      } catch {
        // not JSON
      }
      if (isAuthFailure(response.status, envelope)) {
        await login(envelope.error_code);
        return;
      }
      throw new Error(envelope?.message || `journal stream: HTTP ${response.status}`);
    }
    onState("live");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let event = {};
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          dispatch(event);
          event = {};
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") event.data = event.data === undefined ? text : `${event.data}\n${text}`;
        else if (field === "event") event.type = text;
        else if (field === "id") event.id = text;
        else if (field === "retry" && /^\d+$/.test(text)) event.retry = Number(text);
      }
    }
  }

  (async () => {
    while (!closed) {
      onState("connecting");
      try {
        await readOnce();
      } catch (error) {
        if (closed) return;
        console.warn("journal stream:", error);
      }
      if (closed) return;
      onState("retrying");
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  })();

  return {
    close() {
      closed = true;
      abort.abort();
    },
  };
}

// An open stream holds a server worker thread for as long as it is open: a tab left in the background for a
// while lets it go, and catches up from where it stopped when shown again. Not at once: a closed stream keeps
// its place until the server next writes to it (a heartbeat, 5 s), so a quick look at another tab must not
// cost a reconnection.
const PAUSE_AFTER_MS = 30000;

/** Call pause() once the page has been hidden a while, resume() when it is shown again. */
export function pauseWhenHidden({ ready, pause, resume }) {
  let timer = null;
  document.addEventListener("visibilitychange", () => {
    if (!ready()) return;
    clearTimeout(timer);
    if (document.visibilityState === "hidden") {
      timer = setTimeout(() => document.visibilityState === "hidden" && pause(), pauseAfterMs());
    } else {
      resume();
    }
  });
}

/** The pause delay; a test may shorten it (sessionStorage "tap4book-mock.pause-after-ms"). */
function pauseAfterMs() {
  return Number(sessionStorage.getItem("tap4book-mock.pause-after-ms")) || PAUSE_AFTER_MS;
}
