/* History (templates/web/history.html).
 *
 * - Delete with confirmation: forms marked .js-confirm-delete open the shared
 *   <dialog> first and submit only when "Delete" is chosen. Without JavaScript
 *   the form still posts (and the GET page of the same URL asks first).
 * - Bulk delete: the row checkboxes belong to form#bulk-delete; "Select all on
 *   this page", a live count, and one confirmation <dialog> naming the jobs; the
 *   form then posts with confirm=yes. Without JavaScript the server asks first.
 * - Filters: the date pickers cannot pick an inverted range (min/max follow the
 *   other date; a typed one is explained by the server); the phone layout's
 *   "Sort by" menu applies at once.
 */
(function () {
  "use strict";

  function openDialog(dialog) {
    dialog.returnValue = "";
    dialog.showModal();
  }

  /* ---- one job ------------------------------------------------------------ */
  const dialog = document.getElementById("confirm-delete");
  if (dialog && typeof dialog.showModal === "function") {
    const name = dialog.querySelector(".dialog-name");
    let pending = null;
    document.querySelectorAll("form.js-confirm-delete").forEach((form) => {
      form.addEventListener("submit", (e) => {
        if (form.dataset.confirmed === "yes") return;
        e.preventDefault();
        pending = form;
        name.textContent = form.dataset.name || "This job";
        openDialog(dialog);
      });
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "confirm" && pending) {
        pending.dataset.confirmed = "yes";
        pending.requestSubmit ? pending.requestSubmit() : pending.submit();
      }
      pending = null;
    });
  }

  /* ---- several jobs ------------------------------------------------------- */
  const bulk = document.getElementById("bulk-delete");
  if (bulk) {
    const boxes = Array.from(document.querySelectorAll("input.row-select"));
    const all = document.getElementById("select-all");
    const count = document.getElementById("bulk-count");
    const button = document.getElementById("bulk-delete-button");
    const confirmField = document.getElementById("bulk-confirm");
    const bulkDialog = document.getElementById("confirm-bulk-delete");
    const idle = count.textContent;

    all.closest("label").hidden = false;

    const chosen = () => boxes.filter((box) => box.checked);
    const jobs = (n) => (n === 1 ? "1 job" : n + " jobs");

    function refresh() {
      const n = chosen().length;
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
      count.textContent = n ? jobs(n) + " selected" : idle;
      button.disabled = n === 0;
      button.textContent = n ? "Delete " + jobs(n) : "Delete selected";
      boxes.forEach((box) => box.closest("tr").classList.toggle("is-selected", box.checked));
    }

    all.addEventListener("change", () => {
      boxes.forEach((box) => {
        box.checked = all.checked;
      });
      refresh();
    });
    boxes.forEach((box) => box.addEventListener("change", refresh));
    window.addEventListener("pageshow", () => {
      confirmField.value = ""; // back from a submit: ask again next time
      refresh(); // the checkboxes Back restored
    });
    refresh();

    if (bulkDialog && typeof bulkDialog.showModal === "function") {
      const what = bulkDialog.querySelector(".bulk-what");
      const list = bulkDialog.querySelector(".bulk-names");
      const yes = document.getElementById("confirm-bulk-button");
      bulk.addEventListener("submit", (e) => {
        if (confirmField.value === "yes") return;
        e.preventDefault();
        const picked = chosen();
        if (!picked.length) return;
        what.textContent = picked.length === 1 ? "this job" : jobs(picked.length);
        yes.textContent = "Delete " + jobs(picked.length);
        list.replaceChildren();
        const shown = picked.slice(0, 6);
        shown.forEach((box) => {
          const item = document.createElement("li");
          item.textContent = box.dataset.name;
          list.append(item);
        });
        if (picked.length > shown.length) {
          const item = document.createElement("li");
          item.className = "muted";
          item.textContent = "and " + (picked.length - shown.length) + " more";
          list.append(item);
        }
        openDialog(bulkDialog);
      });
      bulkDialog.addEventListener("close", () => {
        if (bulkDialog.returnValue !== "confirm") return;
        confirmField.value = "yes";
        bulk.requestSubmit ? bulk.requestSubmit() : bulk.submit();
      });
    }
  }

  /* ---- filters ------------------------------------------------------------ */
  const from = document.getElementById("id_date_from");
  const to = document.getElementById("id_date_to");
  if (from && to) {
    const bound = () => {
      to.min = from.value || "";
      from.max = to.value || "";
    };
    from.addEventListener("change", bound);
    to.addEventListener("change", bound);
    bound();
  }
  const sort = document.getElementById("id_ordering");
  if (sort) {
    sort.addEventListener("change", () => {
      const form = sort.form;
      form.requestSubmit ? form.requestSubmit() : form.submit();
    });
  }
})();
