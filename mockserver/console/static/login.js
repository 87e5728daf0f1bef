// The admin token dialog: on a server started with --admin-token, api.js asks for the token through it (once,
// however many calls are waiting) and keeps it in this tab's session storage.

import { setTokenPrompt } from "./api.js";
import { $ } from "./dom.js";

export function setUpLogin(dialog) {
  dialog.addEventListener("cancel", (event) => event.preventDefault()); // nothing works without it
  setTokenPrompt((reason) => {
    const form = $("#login-form", dialog);
    const input = $("#admin-token", dialog);
    $("#login-error", dialog).textContent = reason;
    input.value = "";
    if (!dialog.open) dialog.showModal();
    input.focus();
    return new Promise((resolve) => {
      form.onsubmit = (event) => {
        event.preventDefault();
        const token = input.value;
        if (!token) return;
        dialog.close();
        resolve(token);
      };
    });
  });
}
