/* Delete with confirmation: forms marked .js-confirm-delete open the shared
 * <dialog> first and submit only when "Delete" is chosen. Without JavaScript
 * the form still posts (and the GET page of the same URL asks first). */
(function () {
  "use strict";
  const dialog = document.getElementById("confirm-delete");
  if (!dialog || typeof dialog.showModal !== "function") return;
  const name = dialog.querySelector(".dialog-name");
  let pending = null;
  document.querySelectorAll("form.js-confirm-delete").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (form.dataset.confirmed === "yes") return;
      e.preventDefault();
      pending = form;
      name.textContent = form.dataset.name || "This job";
      dialog.returnValue = "";
      dialog.showModal();
    });
  });
  dialog.addEventListener("close", () => {
    if (dialog.returnValue === "confirm" && pending) {
      pending.dataset.confirmed = "yes";
      pending.requestSubmit ? pending.requestSubmit() : pending.submit();
    }
    pending = null;
  });
})();
