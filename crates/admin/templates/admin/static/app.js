// Signpost administration: dialogs, focus after a change, local times, copy buttons and the
// Generate button. Every change is an ordinary form post; no framework, no build step.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function focusOn(element) {
  if (!element) return;
  if (element instanceof HTMLDetailsElement) element.open = true;
  if (!element.matches("a, button, input, select, textarea, [tabindex]")) {
    element.setAttribute("tabindex", "-1");
  }
  element.focus();
  element.scrollIntoView({ block: "center" });
}

// After a page loads: a refused form's dialog opens again, the field at fault (or what was
// just changed, named by the address's #anchor) takes the focus, and times read locally.
document.addEventListener("DOMContentLoaded", () => {
  const reopened = document.querySelector("dialog[data-open]");
  if (reopened) reopened.showModal();
  const scope = reopened || document;
  const atFault = [...scope.querySelectorAll("[data-autofocus]")]
    .find((element) => !element.closest("dialog:not([open])"));
  if (atFault) {
    focusOn(atFault);
  } else if (location.hash.length > 1) {
    try {
      focusOn(document.getElementById(decodeURIComponent(location.hash.slice(1))));
    } catch (_) {
      // A malformed anchor names nothing to focus.
    }
  }
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  for (const time of document.querySelectorAll("time[data-local]")) {
    const when = new Date(time.getAttribute("datetime"));
    if (!Number.isNaN(when.getTime())) {
      time.title = time.getAttribute("datetime");
      time.textContent = format.format(when);
    }
  }
});

async function copyFrom(button) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = source.value !== undefined ? source.value : source.textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch (_) {
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    document.execCommand("copy");
  }
  const label = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = label; }, 1500);
}

// Generate: the answer Signpost would send, with the variables in place of any one user's
// values, ready to edit and save. It changes nothing until Save.
async function generate(button) {
  const box = document.getElementById(button.dataset.target);
  const status = document.getElementById(button.id + "-status");
  const url = "/api/v1/domains/" + encodeURIComponent(button.dataset.domain) +
    "/overrides/" + encodeURIComponent(button.dataset.generate) + "/generate";
  button.disabled = true;
  try {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: "{}",
    });
    const answer = await response.json();
    if (response.ok) {
      box.value = answer.text;
      const warnings = (answer.warnings || []).join(" ");
      status.textContent = "Generated with the variables %EmailAddress%, %DisplayName%, %LegacyDN% and %Base64EmailAddress% where the answer carries them. Nothing is saved until you press Save." +
        (warnings ? " " + warnings : "");
      box.focus();
    } else {
      status.textContent = answer.message || "Could not generate the answer.";
    }
  } catch (error) {
    status.textContent = "Could not reach the server: " + error;
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.dialog) {
    const dialog = document.getElementById(button.dataset.dialog);
    if (dialog) {
      dialog.showModal();
    }
  } else if (button.hasAttribute("data-close")) {
    const dialog = button.closest("dialog");
    if (dialog) dialog.close();
  } else if (button.dataset.copy) {
    copyFrom(button);
  } else if (button.dataset.generate) {
    generate(button);
  }
});

// A dialog closed returns the focus to the button that opened it.
document.addEventListener("close", (event) => {
  if (!(event.target instanceof HTMLDialogElement)) return;
  const opener = document.querySelector('[data-dialog="' + event.target.id + '"]');
  if (opener) opener.focus();
}, true);
