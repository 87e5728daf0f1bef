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
