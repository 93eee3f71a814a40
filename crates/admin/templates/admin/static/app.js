// Signpost administration: dialogs, copy buttons and the Generate button. Everything works
// without it except Generate and copying; no framework, no build step.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

document.addEventListener("click", async (event) => {
  const target = event.target.closest("button");
  if (!target) return;

  if (target.dataset.dialog) {
    const dialog = document.getElementById(target.dataset.dialog);
    if (dialog) dialog.showModal();
    return;
  }
  if (target.hasAttribute("data-close")) {
    const dialog = target.closest("dialog");
    if (dialog) dialog.close();
    return;
  }
  if (target.dataset.copy) {
    const source = document.getElementById(target.dataset.copy);
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
    target.textContent = "Copied";
    setTimeout(() => { target.textContent = target.id === "copy-zone" ? "Copy all" : "Copy"; }, 1500);
    return;
  }
  if (target.dataset.generate) {
    const kind = target.dataset.generate;
    const box = document.getElementById(target.dataset.target);
    const sample = document.getElementById(target.dataset.sample);
    const status = document.getElementById(target.id + "-status");
    const url = "/api/v1/domains/" + encodeURIComponent(target.dataset.domain) +
      "/overrides/" + encodeURIComponent(kind) + "/generate";
    target.disabled = true;
    try {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify({ address: sample ? sample.value : null }),
      });
      const answer = await response.json();
      if (response.ok) {
        box.value = answer.text;
        if (status) status.textContent = "Generated for " + answer.address + ". Edit it, then Save.";
      } else if (status) {
        status.textContent = answer.message || "Could not generate the answer.";
      }
    } catch (error) {
      if (status) status.textContent = "Could not reach the server: " + error;
    } finally {
      target.disabled = false;
    }
  }
});
