/* A secret shown once (an API key on /keys/, a webhook signing secret on /webhooks/):
   its Copy button puts it on the clipboard (the field is selectable too). Buttons
   marked .js-copy name their field (data-target) and status line (data-status).
   The page that shows it answers a POST: the address is made a plain GET so that
   reloading it does not send the form again (and make another key). */
(function () {
  "use strict";
  function fallback() {
    try {
      return document.execCommand("copy");
    } catch (err) {
      return false;
    }
  }
  document.querySelectorAll(".js-copy").forEach((button) => {
    const field = document.getElementById(button.dataset.target);
    const status = document.getElementById(button.dataset.status);
    const label = button.querySelector(".copy-label");
    const what = button.dataset.what || "key";
    if (!field) return;
    function copied(ok) {
      label.textContent = ok ? "Copied" : "Copy";
      button.classList.toggle("copied", ok);
      if (status) {
        status.textContent = ok
          ? "The " + what + " is on your clipboard."
          : "Press Ctrl+C (\u2318C) to copy the selected " + what + ".";
      }
      if (ok) {
        setTimeout(() => {
          label.textContent = "Copy";
          button.classList.remove("copied");
        }, 2500);
      }
    }
    button.addEventListener("click", () => {
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(() => copied(true), () => copied(fallback()));
      } else {
        copied(fallback());
      }
    });
  });
  if (document.querySelector(".js-copy") && window.history.replaceState) {
    window.history.replaceState(null, "", window.location.href);
  }
})();
