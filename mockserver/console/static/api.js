// The control API, as the console calls it: JSON in the API's envelope, the admin token when the server
// wants one. A 401 AUTH_REQUIRED / AUTH_INVALID asks the person for the token (once, however many calls
// are waiting), keeps it in this tab's session storage, and retries.

/** /__mock/, wherever the sandbox is mounted: this module is /__mock/console/api.js. */
export const CONTROL = new URL("../", import.meta.url);
const TOKEN_KEY = "tap4book-mock.admin-token";
const ADMIN_HEADER = "X-Mock-Admin-Token";

export class ControlError extends Error {
  constructor(status, envelope, what) {
    const message = envelope?.message || `HTTP ${status}`;
    super(`${what}: ${message}`);
    this.status = status;
    this.code = envelope?.error_code || null;
    this.hint = envelope?.debug?.hint || null;
  }
}

let askForToken = async () => {
  throw new Error("This sandbox needs its admin token");
};
let pendingLogin = null;

/** The page supplies the prompt: a function (reason) -> Promise<token>. */
export function setTokenPrompt(prompt) {
  askForToken = prompt;
}

export function adminHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { [ADMIN_HEADER]: token } : {};
}

/** After a 401: ask for the token (one prompt for every waiting caller); resolves once one is given. */
export function login(code) {
  if (!pendingLogin) {
    const hadToken = sessionStorage.getItem(TOKEN_KEY) !== null;
    if (code === "AUTH_INVALID") sessionStorage.removeItem(TOKEN_KEY);
    const reason = code === "AUTH_INVALID" && hadToken ? "The sandbox refused that token." : "";
    pendingLogin = askForToken(reason)
      .then((token) => sessionStorage.setItem(TOKEN_KEY, token))
      .finally(() => {
        pendingLogin = null;
      });
  }
  return pendingLogin;
}

export function isAuthFailure(status, envelope) {
  return status === 401 && ["AUTH_REQUIRED", "AUTH_INVALID"].includes(envelope?.error_code);
}

/** A URL under /__mock/ with a query (undefined and null values left out). */
export function controlUrl(path, query = {}) {
  const url = new URL(path, CONTROL);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) url.searchParams.set(key, String(value));
  }
  return url;
}

/** call("POST", "rules", {body: {...}}) -> the envelope's data; ControlError when it did not succeed. */
export async function call(method, path, { query = {}, body } = {}) {
  for (;;) {
    const headers = { Accept: "application/json", ...adminHeaders() };
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json"; // the control API takes JSON writes only
      init.body = JSON.stringify(body);
    }
    const response = await fetch(controlUrl(path, query), init);
    let envelope = null;
    try {
      envelope = await response.json();
    } catch {
      // not JSON: reported below with the status
    }
    if (isAuthFailure(response.status, envelope)) {
      await login(envelope.error_code);
      continue;
    }
    if (!response.ok || !envelope?.success) throw new ControlError(response.status, envelope, `${method} /__mock/${path}`);
    return envelope.data;
  }
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body });
export const del = (path, query) => call("DELETE", path, { query });
