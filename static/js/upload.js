/* Upload page: stage files (drop or pick), send each to POST /api/ocr/ with the
 * session cookie and CSRF token, then poll GET /api/ocr/{id}/ and show live
 * progress and errors next to each file. No dependencies. */
(function () {
  "use strict";

  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("file-input");
  const dropzone = document.getElementById("dropzone");
  const list = document.getElementById("file-list");
  const submit = document.getElementById("submit-files");
  const summary = document.getElementById("selection-summary");
  const engineSelect = document.getElementById("engine");
  const languageBox = document.getElementById("languages");
  const engines = JSON.parse(document.getElementById("engines-data").textContent);
  const defaultLanguages = JSON.parse(document.getElementById("default-languages").textContent);
  const errorWords = JSON.parse(document.getElementById("error-messages").textContent);
  const maxBytes = Number(form.dataset.maxBytes || 0);
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const PARALLEL = 3;

  let staged = []; // {file, row}
  let active = 0;
  const waiting = [];

  function humanSize(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(0) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* ---- engines and languages ---------------------------------------- */
  function renderLanguages() {
    const engine = engines.find((e) => e.name === engineSelect.value);
    const checked = new Set(
      Array.from(languageBox.querySelectorAll("input:checked")).map((i) => i.value)
    );
    if (!checked.size) defaultLanguages.forEach((c) => checked.add(c));
    languageBox.replaceChildren();
    const langs = engine ? engine.languages : [];
    if (!langs.length) {
      languageBox.append(el("p", "hint", "This engine chooses the language itself."));
      return;
    }
    langs.forEach((lang) => {
      const label = el("label", "chip");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "languages";
      box.value = lang.code;
      box.checked = checked.has(lang.code);
      label.append(box, el("span", "", lang.name));
      languageBox.append(label);
    });
    if (!languageBox.querySelector("input:checked")) {
      languageBox.querySelector("input").checked = true;
    }
  }
  engineSelect.addEventListener("change", renderLanguages);

  function chosenLanguages() {
    return Array.from(languageBox.querySelectorAll("input:checked")).map((i) => i.value);
  }

  /* ---- staging files ------------------------------------------------- */
  function updateSummary() {
    const n = staged.length;
    submit.disabled = n === 0;
    summary.textContent = n
      ? n + " file" + (n > 1 ? "s" : "") + " ready · " + humanSize(staged.reduce((s, x) => s + x.file.size, 0))
      : "No files chosen yet.";
    submit.textContent = n > 1 ? "Recognise text in " + n + " files" : "Recognise text";
  }

  function makeRow(file) {
    const row = el("li", "file-row");
    row.dataset.state = "staged";
    const ext = (file.name.match(/\.([a-z0-9]{1,4})$/i) || [, "file"])[1].toUpperCase();
    const kind = /pdf$/i.test(file.type) || ext === "PDF" ? "pdf" : file.type.startsWith("image/") ? "img" : "other";
    const icon = el("div", "file-icon " + kind, ext);
    icon.setAttribute("aria-hidden", "true");
    const main = el("div", "file-main");
    const head = el("div", "file-head");
    head.append(el("span", "file-name", file.name), el("span", "file-size", humanSize(file.size)));
    const progress = el("div", "progress");
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-label", "Progress of " + file.name);
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    progress.setAttribute("aria-valuenow", "0");
    progress.append(el("span", "bar"));
    const status = el("p", "file-status", "Ready to upload");
    const error = el("p", "file-error");
    error.setAttribute("role", "alert");
    error.hidden = true;
    const preview = el("p", "file-preview");
    preview.hidden = true;
    main.append(head, progress, status, error, preview);
    const actions = el("div", "file-actions");
    const remove = el("button", "btn btn-ghost btn-sm remove", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", "Remove " + file.name);
    remove.addEventListener("click", () => {
      staged = staged.filter((s) => s.row !== row);
      row.remove();
      updateSummary();
    });
    actions.append(remove);
    row.append(icon, main, actions);
    row._parts = { progress, bar: progress.firstChild, status, error, preview, actions };
    return row;
  }

  function addFiles(files) {
    const batch = document.createDocumentFragment();
    Array.from(files).forEach((file) => {
      const row = makeRow(file);
      batch.append(row);
      if (maxBytes && file.size > maxBytes) {
        setState(row, "failed", "Not uploaded");
        showError(row, "file_too_large", "The file is " + humanSize(file.size) + "; the limit is " + humanSize(maxBytes) + ".");
        return;
      }
      staged.push({ file, row });
    });
    list.prepend(batch);
    updateSummary();
  }

  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach((type) =>
    dropzone.addEventListener(type, (e) => {
      e.preventDefault();
      dropzone.classList.add("dragging");
    })
  );
  ["dragleave", "drop"].forEach((type) =>
    dropzone.addEventListener(type, (e) => {
      e.preventDefault();
      dropzone.classList.remove("dragging");
    })
  );
  dropzone.addEventListener("drop", (e) => {
    if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
  });
  dropzone.addEventListener("click", (e) => {
    if (e.target === dropzone || e.target.closest(".dz-icon")) input.click();
  });

  /* ---- row state ----------------------------------------------------- */
  function setState(row, state, text, fraction) {
    const p = row._parts;
    row.dataset.state = state;
    p.status.textContent = text;
    const indeterminate = fraction === null;
    p.progress.classList.toggle("indeterminate", indeterminate);
    if (!indeterminate && fraction !== undefined) {
      const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
      p.bar.style.width = pct + "%";
      p.progress.setAttribute("aria-valuenow", String(pct));
    }
    if (state === "done" || state === "failed") {
      p.progress.classList.remove("indeterminate");
      if (state === "done") p.bar.style.width = "100%";
      p.progress.setAttribute("aria-valuenow", state === "done" ? "100" : p.progress.getAttribute("aria-valuenow"));
    }
  }

  function showError(row, code, message) {
    const p = row._parts;
    const words = errorWords[code] || "The file could not be processed.";
    p.error.replaceChildren(el("strong", "", words));
    if (message && message !== words) p.error.append(el("span", "", message));
    p.error.hidden = false;
  }

  function setActions(row, job) {
    const p = row._parts;
    p.actions.replaceChildren();
    if (job && job.id) {
      const open = el("a", "btn btn-sm" + (job.status === "done" ? " btn-primary" : ""), job.status === "done" ? "Open result" : "Details");
      open.href = "/jobs/" + job.id + "/";
      p.actions.append(open);
      if (job.status === "pending" || job.status === "processing") {
        p.actions.append(cancelButton(row, job));
      }
    }
  }

  /* POST /api/ocr/{id}/cancel/: a pending job never runs, a running one stops at
   * its next page. The row then shows the job as the API answers it. */
  function cancelButton(row, job) {
    const button = el("button", "btn btn-ghost btn-sm cancel", "Cancel");
    button.type = "button";
    button.setAttribute("aria-label", "Cancel " + (job.filename || "this file"));
    button.addEventListener("click", () => {
      button.disabled = true;
      fetch("/api/ocr/" + job.id + "/cancel/", {
        method: "POST",
        headers: { Accept: "application/json", "X-CSRFToken": csrf },
        credentials: "same-origin",
      })
        .then((r) => r.json().then((b) => ({ ok: r.ok, body: b })))
        .then(({ ok, body }) => {
          if (ok) {
            row._canceled = body;
            describe(row, body);
          } else {
            // Already finished: the next poll shows how it ended.
            button.remove();
          }
        })
        .catch(() => {
          button.disabled = false;
        });
    });
    return button;
  }

  /* ---- sending and polling ------------------------------------------- */
  function pump() {
    while (active < PARALLEL && waiting.length) {
      active += 1;
      send(waiting.shift()).finally(() => {
        active -= 1;
        pump();
      });
    }
  }

  function send(item) {
    const { file, row } = item;
    const data = new FormData();
    data.append("image", file, file.name);
    data.append("engine", item.engine);
    if (item.languages.length) data.append("languages", item.languages.join("+"));
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) {
          const pct = e.loaded / e.total;
          setState(row, "uploading", "Uploading… " + Math.round(pct * 100) + "%", pct * 0.3);
        }
      });
      xhr.addEventListener("load", () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch (err) {
          body = null;
        }
        if (xhr.status >= 200 && xhr.status < 300 && body) {
          setActions(row, body);
          track(row, body).then(resolve);
        } else {
          const error = (body && body.error) || {};
          const code = error.code || (xhr.status === 403 ? "not_authenticated" : "internal_error");
          setState(row, "failed", "Not accepted");
          showError(row, code, error.message || "");
          row._parts.actions.replaceChildren();
          resolve();
        }
      });
      xhr.addEventListener("error", () => {
        setState(row, "failed", "Upload interrupted");
        showError(row, "", "The connection to the server was lost.");
        row._parts.actions.replaceChildren();
        resolve();
      });
      setState(row, "uploading", "Uploading… 0%", 0);
      xhr.send(data);
    });
  }

  function describe(row, job) {
    const pages = job.page_count || 0;
    if (job.status === "pending") {
      setState(row, "pending", "Queued, waiting for a worker…", null);
    } else if (job.status === "processing") {
      if (pages > 1) {
        const done = job.pages_done || 0;
        setState(row, "processing", "Recognising · " + done + " of " + pages + " pages done", 0.3 + 0.7 * (done / pages));
      } else {
        setState(row, "processing", "Recognising text…", null);
      }
    } else if (job.status === "done") {
      const secs = job.duration != null ? " · " + job.duration.toFixed(1) + " s" : "";
      setState(row, "done", "Done · " + pages + " page" + (pages === 1 ? "" : "s") + secs);
      const text = (job.text || "").replace(/\f/g, " ").replace(/\s+/g, " ").trim();
      const p = row._parts.preview;
      p.textContent = text ? (text.length > 180 ? text.slice(0, 180) + "…" : text) : "No text was found on this file.";
      p.hidden = false;
      setActions(row, job);
    } else if (job.status === "failed") {
      setState(row, "failed", "Failed");
      const error = job.error || {};
      showError(row, error.code, error.message);
      setActions(row, job);
    } else {
      setState(row, job.status, job.status.charAt(0).toUpperCase() + job.status.slice(1));
      setActions(row, job);
    }
  }

  function track(row, job) {
    return new Promise((resolve) => {
      let delay = 400;
      function tick(current) {
        if (row._canceled) current = row._canceled; // a poll sent before the cancel
        describe(row, current);
        if (["done", "failed", "canceled"].includes(current.status)) {
          resolve();
          return;
        }
        setTimeout(() => {
          fetch("/api/ocr/" + current.id + "/", { headers: { Accept: "application/json" }, credentials: "same-origin" })
            .then((r) => r.json().then((b) => ({ ok: r.ok, body: b })))
            .then(({ ok, body }) => {
              if (!ok) {
                const error = (body && body.error) || {};
                setState(row, "failed", "Status unavailable");
                showError(row, error.code || "internal_error", error.message || "");
                resolve();
                return;
              }
              delay = Math.min(delay * 1.25, 2000);
              tick(body);
            })
            .catch(() => {
              delay = Math.min(delay * 2, 5000);
              tick(current);
            });
        }, delay);
      }
      tick(job);
    });
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!staged.length) return;
    const languages = chosenLanguages();
    const engine = engineSelect.value;
    staged.forEach((item) => {
      item.engine = engine;
      item.languages = languages;
      item.row._parts.actions.replaceChildren();
      setState(item.row, "queued", "Waiting to upload…", 0);
      waiting.push(item);
    });
    staged = [];
    updateSummary();
    pump();
  });

  updateSummary();
})();
