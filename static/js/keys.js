/* API keys page: copy the new key to the clipboard (the field is selectable too). */
(function () {
  "use strict";
  const copy = document.getElementById("copy-key");
  if (!copy) return;
  const field = document.getElementById(copy.dataset.target);
  const status = document.getElementById("copy-key-status");
  const label = copy.querySelector(".copy-label");
  function copied(ok) {
    label.textContent = ok ? "Copied" : "Copy";
    status.textContent = ok ? "The key is on your clipboard." : "Press Ctrl+C (⌘C) to copy the selected key.";
    if (ok) setTimeout(() => { label.textContent = "Copy"; }, 2500);
  }
  function fallback() {
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }
  copy.addEventListener("click", () => {
    field.focus();
    field.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(() => copied(true), () => copied(fallback()));
    } else {
      copied(fallback());
    }
  });
})();
