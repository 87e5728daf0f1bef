// Copy as curl: the command that replays a journal entry (method, URL with its query, the headers that change
// the answer, the body). The journal stores tokens masked, so the command carries <access-token> in their place,
// or the account's token when the person gave it to this tab (the console is never told a token otherwise).

import { CONTROL } from "./api.js";
import { h } from "./dom.js";

export const PLACEHOLDER = "<access-token>";
const TOKEN_KEY = "tap4book-mock.access-token."; // + account id, in this tab's session storage

/** Headers curl sets itself or the transport owns: replaying them would only add noise or break the call. */
const TRANSPORT = new Set([
  "host",
  "content-length",
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "upgrade",
  "expect",
  "user-agent",
  "accept-encoding",
  "…", // the journal's note that some headers were not recorded
]);
/** Names whose values the journal always masks (store/journal/masking.py's SECRET_NAMES). */
const SECRETS = new Set(["authorization", "cookie", "proxy-authorization", "x-mock-admin-token"]);

const isToken = (name) => name.toLowerCase().replace(/_/g, "-") === "access-token";
const isSecret = (name) => SECRETS.has(name.toLowerCase().replace(/_/g, "-"));

/** A word for the shell, inside single quotes (a ' closes the quote, is escaped, and reopens it). */
export const quote = (text) => `'${String(text).replace(/'/g, `'\\''`)}'`;

export function knownToken(account) {
  return account ? sessionStorage.getItem(TOKEN_KEY + account) : null;
}

export function rememberToken(account, token) {
  if (token) sessionStorage.setItem(TOKEN_KEY + account, token);
  else sessionStorage.removeItem(TOKEN_KEY + account);
}

/** The account whose token would replay an entry: its tenant's space (none for a call no tenant owns). */
export const accountOf = (entry) => (entry.tenant ? entry.tenant.split("/")[0] : null);

/** The curl command for an entry; ``token``: the access token to put in clear (null: the placeholder). */
export function curlCommand(entry, token = null) {
  const secret = (name, value) => {
    if (isToken(name)) return token || PLACEHOLDER;
    if (isSecret(name)) return `<${name.toLowerCase()}>`;
    return value;
  };
  // The API lives next to /__mock/, wherever the sandbox is mounted; the journal's path is the API path.
  const url = new URL(entry.path.replace(/^\/+/, ""), new URL("../", CONTROL));
  for (const [name, value] of Object.entries(entry.query || {})) {
    url.searchParams.append(name, secret(name, typeof value === "string" ? value : JSON.stringify(value)));
  }
  // A placeholder stays readable in the URL (a person replaces it by hand there).
  const shownUrl = url.href.replaceAll(encodeURIComponent(PLACEHOLDER), PLACEHOLDER);
  const words = ["curl -sS"];
  if (entry.method === "HEAD") words.push("--head");
  else if (entry.method !== "GET") words.push(`-X ${entry.method}`);
  words.push(quote(shownUrl));
  for (const [name, value] of Object.entries(entry.headers || {})) {
    if (TRANSPORT.has(name.toLowerCase())) continue;
    if (name.toLowerCase() === "accept" && value === "*/*") continue; // curl's own
    words.push(`-H ${quote(`${name}: ${secret(name, value)}`)}`);
  }
  if (entry.body !== null && entry.body !== undefined) {
    const body = typeof entry.body === "string" ? entry.body : JSON.stringify(entry.body);
    words.push(`--data-raw ${quote(body)}`);
  }
  return words.join(" \\\n  ");
}

/** The "Copy as curl" block of an entry's detail: a button, "token in clear", and the command in a read-only
 * field (selectable even where the clipboard is refused: a page over plain HTTP on another host). */
export function curlPanel(entry) {
  const account = accountOf(entry);
  const output = h("textarea", {
    id: "curl-text",
    class: "curl-text",
    readonly: true,
    rows: 5,
    spellcheck: "false",
    "aria-label": "curl command",
  });
  const clear = h("input", { type: "checkbox", id: "curl-clear" });
  const tokenField = h("input", { type: "password", id: "curl-token", autocomplete: "off", size: 20 });
  const tokenLabel = h("label", { for: "curl-token" }, account ? `Access token of ${account}` : "Access token");
  const hint = h("span", { class: "muted" }, " (tap4book-mock token prints it)");
  const tokenRow = h("p", { class: "curl-token", hidden: true }, tokenLabel, " ", tokenField, hint);
  const note = h("p", { id: "curl-note", class: "muted", role: "status" });
  output.hidden = true;

  const build = () => {
    let token = null;
    note.textContent = "";
    if (clear.checked) {
      token = knownToken(account);
      tokenRow.hidden = !account;
      if (!account) note.textContent = `This call carried no valid token, so its account is unknown: put yours in place of ${PLACEHOLDER}.`;
      else if (!token) note.textContent = `The console does not know the token of ${account}: give it above (kept in this tab).`;
    } else {
      tokenRow.hidden = true;
    }
    output.value = curlCommand(entry, token);
    return output.value;
  };
  const copy = async () => {
    const text = build();
    output.hidden = false;
    output.select();
    try {
      await navigator.clipboard.writeText(text);
      if (!note.textContent) note.textContent = "Copied to the clipboard.";
    } catch {
      if (!note.textContent) note.textContent = "The browser refused the clipboard: the command is selected, copy it with Ctrl+C.";
    }
  };
  clear.addEventListener("change", () => {
    tokenField.value = knownToken(account) || "";
    build();
  });
  tokenField.addEventListener("input", () => {
    rememberToken(account, tokenField.value.trim());
    build();
  });
  return h(
    "div",
    { class: "curl" },
    h(
      "p",
      { class: "curl-actions" },
      h("button", { type: "button", id: "copy-curl", onclick: copy }, "Copy as curl"),
      " ",
      h("label", { class: "check", for: "curl-clear" }, clear, " token in clear"),
    ),
    tokenRow,
    note,
    output,
  );
}
