/* Upload page: stage files (drop or pick), send each to POST /api/ocr/ with the
 * session cookie and CSRF token, then poll GET /api/ocr/{id}/ and show live
 * progress and errors next to each file. Two or more files sent together by a
 * signed-in user go as one batch (POST /api/batches/, polled at
 * GET /api/batches/{id}/), shown as a group of the same rows linked to the batch's
 * page. A file the server would refuse (too large, empty, not an image or PDF) is
 * refused here as soon as it is added; an ended row (failed, canceled) can be
 * dismissed. No dependencies. */
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
  // {items, bytes} when batches may be sent (signed in); null sends every file alone.
  const batchLimits = JSON.parse(document.getElementById("batch-limits").textContent);
  const batchUrl = form.dataset.batchUrl;
  const PARALLEL = 3;
  const FINISHED = ["done", "failed", "canceled"];

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
  // "Detect automatically" (languages=auto) stands alone: choosing it clears the other
  // languages, choosing a language clears it; with none left, detection comes back.
  languageBox.addEventListener("change", (event) => {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.checked) {
      if (!languageBox.querySelector("input:checked")) {
        const auto = languageBox.querySelector('input[value="auto"]');
        if (auto) auto.checked = true;
      }
      return;
    }
    languageBox.querySelectorAll("input:checked").forEach((other) => {
      if (other !== box && (box.value === "auto" || other.value === "auto")) other.checked = false;
    });
  });

  function chosenLanguages() {
    return Array.from(languageBox.querySelectorAll("input:checked")).map((i) => i.value);
  }

  /* The languages sit in a <details> whose summary names the chosen ones: open on a
   * wide screen, closed on a phone so that "Recognise text" stays in view. */
  const languagesDetails = document.getElementById("languages-box");
  const languagesChosen = document.getElementById("languages-chosen");
  function updateLanguagesSummary() {
    if (!languagesChosen) return;
    const names = Array.from(languageBox.querySelectorAll("input:checked")).map((i) =>
      i.value === "auto" ? "Auto-detect" : i.nextElementSibling.textContent
    );
    const engine = engines.find((e) => e.name === engineSelect.value);
    if (engine && !engine.languages.length) {
      languagesChosen.textContent = "chosen by the engine";
    } else {
      languagesChosen.textContent = names.length ? names.join(", ") : "none chosen";
    }
  }
  engineSelect.addEventListener("change", updateLanguagesSummary);
  languageBox.addEventListener("change", updateLanguagesSummary);
  if (languagesDetails && window.matchMedia("(min-width: 641px)").matches) {
    languagesDetails.open = true;
  }
  updateLanguagesSummary();

  /* ---- staging files ------------------------------------------------- */
  function updateSummary() {
    const n = staged.length;
    submit.disabled = n === 0;
    summary.textContent = n
      ? n + " file" + (n > 1 ? "s" : "") + " ready · " + humanSize(staged.reduce((s, x) => s + x.file.size, 0)) +
        (n > 1 && batchLimits ? " · sent together as one batch" : "")
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
    row.append(icon, main, actions);
    row._parts = { progress, bar: progress.firstChild, status, error, preview, actions };
    row._file = file;
    actions.append(removeButton(row));
    return row;
  }

  /* "Remove": takes the file off the list (and out of what the next send takes). */
  function removeButton(row) {
    const remove = el("button", "btn btn-ghost btn-sm remove", "Remove");
    remove.type = "button";
    remove.setAttribute("aria-label", "Remove " + row._file.name);
    remove.addEventListener("click", () => {
      staged = staged.filter((s) => s.row !== row);
      takeOff(row);
      updateSummary();
    });
    return remove;
  }

  /* "Dismiss": takes a failed (or canceled) file off the queue; a job the server
   * made stays in History. */
  function dismissButton(row) {
    const dismiss = el("button", "btn btn-ghost btn-sm dismiss", "Dismiss");
    dismiss.type = "button";
    dismiss.setAttribute("aria-label", "Dismiss " + row._file.name);
    dismiss.title = "Take this file off the list";
    dismiss.addEventListener("click", () => takeOff(row));
    return dismiss;
  }

  /* Removes a row; the keyboard focus goes to the next row's button (or the one
   * before, or the file picker), never lost to the page's top. */
  function takeOff(row) {
    const rows = Array.from(list.querySelectorAll(".file-row, .batch-head"));
    const at = rows.indexOf(row);
    const next = rows.slice(at + 1).concat(rows.slice(0, at).reverse());
    const group = row.closest(".batch-group");
    row.remove();
    if (group && !group.querySelector(".file-row")) group.remove();
    const target = next
      .filter((r) => r.isConnected)
      .map((r) => r.querySelector("button, a"))
      .find(Boolean);
    (target || input).focus();
  }

  /* Files dropped or picked: each is checked here as the server would (size, empty,
   * type) and a bad one is refused at once, with the reason, without being sent. */
  function addFiles(files) {
    const fragment = document.createDocumentFragment();
    Array.from(files).forEach((file) => {
      const row = makeRow(file);
      fragment.append(row);
      const item = { file, row };
      const problem = sizeProblem(file);
      if (problem) {
        refuseLocally(row, problem);
        return;
      }
      setState(row, "staged", "Checking the file…", 0);
      item.check = fileProblem(file).then((found) => {
        if (found) {
          staged = staged.filter((s) => s !== item);
          refuseLocally(row, found);
          updateSummary();
        } else if (row.dataset.state === "staged") {
          setState(row, "staged", "Ready to upload", 0);
        }
        return found;
      });
      staged.push(item);
    });
    list.prepend(fragment);
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

  function hideError(row) {
    row._parts.error.hidden = true;
    row._parts.error.replaceChildren();
  }

  /* The error said once: the words of the error table for its code; the server's own
   * message is added only when it says where or how much (a page or item number, a
   * size), never when it repeats the words in other terms. Exception class names
   * ("(OSError)") are not shown, nor a batch's "Item 2 (name): " prefix, which the
   * row itself already says. */
  function errorSentence(code, message) {
    const words = errorWords[code];
    const detail = (message || "")
      .replace(/^Item \d+(\s*\([^)]*\))?:\s*/, "")
      .replace(/\s*\(?\b[A-Z][A-Za-z]*(Error|Exception)\b\)?/g, "")
      .replace(/:\s*\./g, ".")
      .trim()
      .replace(/([^.!?])$/, "$1.");
    if (!words) return { main: detail || "The file could not be processed.", detail: "" };
    return { main: words, detail: /\d/.test(detail) && detail !== words ? detail : "" };
  }

  function showError(row, code, message) {
    const p = row._parts;
    const said = errorSentence(code, message);
    p.error.replaceChildren(el("strong", "", said.main));
    if (said.detail) p.error.append(el("span", "", said.detail));
    row.dataset.error = code || "refused";
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
      if (job.status === "failed" || job.status === "canceled") {
        p.actions.append(dismissButton(row));
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
          row._parts.actions.replaceChildren(dismissButton(row));
          resolve();
        }
      });
      xhr.addEventListener("error", () => {
        setState(row, "failed", "Upload interrupted");
        showError(row, "", "The connection to the server was lost. Choose the file again to retry.");
        row._parts.actions.replaceChildren(dismissButton(row));
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
                row._parts.actions.replaceChildren(dismissButton(row));
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

  /* ---- batches: checks before sending ------------------------------- */
  const EXTENSIONS = ["pdf", "png", "apng", "jpg", "jpeg", "jpe", "jfif", "tif", "tiff", "bmp", "dib", "gif", "webp"];

  function startsWith(bytes, signature, at) {
    const from = at || 0;
    return signature.every((b, i) => b === null || bytes[from + i] === b);
  }

  function ascii(text) {
    return Array.from(text).map((c) => c.charCodeAt(0));
  }

  /* Whether the first bytes are of a type the server reads (it sniffs the same way). */
  function knownContent(bytes) {
    if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47])) return true; // PNG
    if (startsWith(bytes, [0xff, 0xd8, 0xff])) return true; // JPEG
    if (startsWith(bytes, ascii("GIF8"))) return true;
    if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return true; // TIFF
    if (startsWith(bytes, ascii("BM"))) return true;
    if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return true;
    const pdf = ascii("%PDF");
    for (let i = 0; i + 4 <= bytes.length; i++) if (startsWith(bytes, pdf, i)) return true;
    return false;
  }

  /* The checks a single upload gets from the server, made here for each file of a
   * batch so one bad file does not refuse the others: size, empty, type. Resolves
   * to null or {code, message}. */
  function sizeProblem(file) {
    if (maxBytes && file.size > maxBytes) {
      return { code: "file_too_large", message: "This file is " + humanSize(file.size) + "; the limit is " + humanSize(maxBytes) + " per file. Choose a smaller file." };
    }
    if (file.size === 0) return { code: "empty_file", message: "This file is empty (0 bytes). Choose another copy." };
    return null;
  }

  function fileProblem(file) {
    const sized = sizeProblem(file);
    if (sized) return Promise.resolve(sized);
    const ext = ((file.name.match(/\.([a-z0-9]+)$/i) || [])[1] || "").toLowerCase();
    return file.slice(0, 1024).arrayBuffer().then(
      (buffer) => {
        if (knownContent(new Uint8Array(buffer)) || EXTENSIONS.includes(ext)) return null;
        return { code: "unsupported_format", message: errorWords.unsupported_format || "This file type is not supported." };
      },
      () => ({ code: "unreadable", message: "This file could not be read. Choose it again." })
    );
  }

  /* Files in sending order, cut into batches within the server's limits. */
  function chunks(items) {
    const out = [];
    let current = [];
    let bytes = 0;
    items.forEach((item) => {
      if (current.length && (current.length >= batchLimits.items || bytes + item.file.size > batchLimits.bytes)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push(item);
      bytes += item.file.size;
    });
    if (current.length) out.push(current);
    return out;
  }

  /* A file refused here before sending: one sentence, a Remove button. */
  function refuseLocally(row, problem) {
    const p = row._parts;
    setState(row, "failed", "Not uploaded");
    p.error.replaceChildren(el("strong", "", problem.message));
    p.error.hidden = false;
    row.dataset.error = problem.code;
    p.actions.replaceChildren(removeButton(row));
  }

  /* A row that was not sent: failed with the reason, and a Remove button. */
  function refuseRow(row, text, code, message) {
    setState(row, "failed", text);
    showError(row, code, message);
    row._parts.actions.replaceChildren(removeButton(row));
  }

  /* A row back in the staged list (sent again by the next "Recognise text"). */
  function restage(item, note) {
    const row = item.row;
    setState(row, "staged", note, 0);
    row._parts.actions.replaceChildren(removeButton(row));
    staged.push(item);
  }

  /* ---- batches: the group in the queue -------------------------------- */
  function makeGroup(items) {
    const group = el("li", "batch-group");
    group.dataset.state = "uploading";
    const head = el("div", "batch-head");
    const main = el("div", "file-main");
    const title = el("div", "file-head");
    const name = el("span", "file-name batch-title", "Batch of " + items.length + " files");
    title.append(name, el("span", "file-size", humanSize(items.reduce((s, x) => s + x.file.size, 0))));
    const progress = el("div", "progress");
    progress.setAttribute("role", "progressbar");
    progress.setAttribute("aria-label", "Progress of the batch of " + items.length + " files");
    progress.setAttribute("aria-valuemin", "0");
    progress.setAttribute("aria-valuemax", "100");
    progress.setAttribute("aria-valuenow", "0");
    progress.append(el("span", "bar"));
    const status = el("p", "file-status batch-status", "Waiting to upload…");
    status.setAttribute("aria-live", "polite");
    main.append(title, progress, status);
    const actions = el("div", "file-actions");
    head.append(main, actions);
    const files = el("ul", "file-list batch-files");
    files.setAttribute("aria-label", "Files of the batch");
    group.append(head, files);
    group._parts = { progress, bar: progress.firstChild, status, actions, files };
    list.insertBefore(group, items[0].row);
    items.forEach((item) => files.append(item.row));
    return group;
  }

  function setGroup(group, state, text, fraction) {
    const p = group._parts;
    group.dataset.state = state;
    p.status.textContent = text;
    if (fraction !== undefined) {
      const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
      p.bar.style.width = pct + "%";
      p.progress.setAttribute("aria-valuenow", String(pct));
    }
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function describeGroup(group, batch) {
    const counts = batch.counts || {};
    const ended = (counts.done || 0) + (counts.failed || 0) + (counts.canceled || 0);
    const pages = batch.page_count || 0;
    const done = batch.pages_done || 0;
    const fraction = 0.3 + 0.7 * (pages ? done / pages : ended / Math.max(1, batch.job_count));
    const files = plural(batch.job_count, "file");
    if (batch.status === "pending") {
      setGroup(group, "pending", "Queued · waiting for a worker · 0 of " + files + " ended", 0.3);
    } else if (batch.status === "processing") {
      setGroup(group, "processing", "Recognising · " + done + " of " + plural(pages, "page") + " · " + ended + " of " + files + " ended", fraction);
    } else if (batch.status === "done") {
      setGroup(group, "done", "Done · " + files + " · " + plural(pages, "page"), 1);
    } else if (batch.status === "failed") {
      setGroup(group, "failed", "Ended · " + counts.failed + " of " + files + " failed", 1);
    } else if (batch.status === "canceled") {
      setGroup(group, "canceled", "Canceled · " + (counts.done || 0) + " of " + files + " done", fraction);
    }
    if (FINISHED.includes(batch.status)) {
      const cancel = group._parts.actions.querySelector(".cancel");
      if (cancel) cancel.remove();
    }
  }

  /* Which row is which job: the answer lists the jobs in the order sent; a name the
   * server kept matches first, the order decides the rest. */
  function pairRows(items, jobs) {
    const byName = new Map();
    items.forEach((item) => {
      const list = byName.get(item.file.name) || [];
      list.push(item.row);
      byName.set(item.file.name, list);
    });
    const used = new Set();
    const pairs = new Map();
    const left = [];
    jobs.forEach((job) => {
      const rows = byName.get(job.filename) || [];
      const row = rows.shift();
      if (row) {
        pairs.set(job.id, row);
        used.add(row);
      } else {
        left.push(job);
      }
    });
    const free = items.map((item) => item.row).filter((row) => !used.has(row));
    left.forEach((job, i) => {
      if (free[i]) pairs.set(job.id, free[i]);
    });
    return pairs;
  }

  function groupActions(group, batch) {
    const actions = group._parts.actions;
    actions.replaceChildren();
    const open = el("a", "btn btn-sm btn-primary", "Open batch");
    open.href = "/batches/" + batch.id + "/";
    open.setAttribute("aria-label", "Open the batch of " + batch.job_count + " files");
    actions.append(open);
    if (!FINISHED.includes(batch.status)) {
      const button = el("button", "btn btn-ghost btn-sm cancel", "Cancel batch");
      button.type = "button";
      button.addEventListener("click", () => {
        button.disabled = true;
        fetch("/api/batches/" + batch.id + "/cancel/", {
          method: "POST",
          headers: { Accept: "application/json", "X-CSRFToken": csrf },
          credentials: "same-origin",
        })
          .then((r) => r.json().then((b) => ({ ok: r.ok, body: b })))
          .then(({ ok, body }) => {
            if (ok) {
              group._canceled = body;
              showBatch(group, body);
            }
            button.remove(); // or already ended: the next poll shows how
          })
          .catch(() => {
            button.disabled = false;
          });
      });
      actions.append(button);
    }
  }

  /* A job of the batch as the batch lists it (no text): a done one is read once
   * more in full for its text preview and duration. An ended job's row is drawn
   * once (its buttons are not made again under the user's pointer). */
  function describeBatchJob(row, job) {
    if (row._final) return;
    if (row._canceled && !FINISHED.includes(job.status)) job = row._canceled;
    if (job.status !== "done") {
      describe(row, job);
      row._final = FINISHED.includes(job.status); // an ended job is drawn once
      return;
    }
    row._final = true;
    const pages = job.page_count || 0;
    setState(row, "done", "Done · " + plural(pages, "page"));
    setActions(row, job);
    fetch("/api/ocr/" + job.id + "/", { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null))
      .then((detail) => {
        if (detail && detail.status === "done") describe(row, detail);
      })
      .catch(() => {});
  }

  function showBatch(group, batch) {
    describeGroup(group, batch);
    (batch.jobs || []).forEach((job) => {
      const row = group._rows.get(job.id);
      if (row) describeBatchJob(row, job);
    });
  }

  function trackBatch(group, batch) {
    let delay = 500;
    function tick(current) {
      if (group._canceled && !FINISHED.includes(current.status)) current = group._canceled;
      showBatch(group, current);
      if (FINISHED.includes(current.status)) return;
      setTimeout(() => {
        fetch("/api/batches/" + current.id + "/", { headers: { Accept: "application/json" }, credentials: "same-origin" })
          .then((r) => r.json().then((b) => ({ ok: r.ok, body: b })))
          .then(({ ok, body }) => {
            if (!ok) {
              const error = (body && body.error) || {};
              setGroup(group, "failed", "Status unavailable: " + (error.message || errorWords[error.code] || "the server did not answer."));
              return;
            }
            delay = Math.min(delay * 1.25, current.job_count > 200 ? 6000 : 2000);
            tick(body);
          })
          .catch(() => {
            delay = Math.min(delay * 2, 5000);
            tick(current);
          });
      }, delay);
    }
    tick(batch);
  }

  /* The batch was refused (nothing stored): its rows go back to the list, the file
   * at fault (error.field "image[i]") marked with the reason, the others ready to
   * be sent again. */
  function batchRefused(group, items, code, message, field) {
    const match = /^image\[(\d+)\]$/.exec(field || "");
    const culprit = match ? items[Number(match[1])] : null;
    items.forEach((item) => {
      list.insertBefore(item.row, group);
      if (item === culprit) {
        refuseRow(item.row, "Not accepted", code, message);
      } else if (culprit) {
        hideError(item.row);
        restage(item, "Not sent: " + culprit.file.name + " was refused. Ready to send again.");
      } else {
        restage(item, "Not sent with the batch. Ready to send again.");
        showError(item.row, code, message);
      }
    });
    group.remove();
    updateSummary();
  }

  function sendBatch(group, items) {
    const data = new FormData();
    items.forEach((item) => data.append("image", item.file, item.file.name));
    data.append("engine", items[0].engine);
    if (items[0].languages.length) data.append("languages", items[0].languages.join("+"));
    items.forEach((item) => {
      item.row._parts.actions.replaceChildren();
      hideError(item.row);
      setState(item.row, "uploading", "Uploading with the batch…", 0);
    });
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", batchUrl);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const pct = e.loaded / e.total;
        const text = "Uploading… " + Math.round(pct * 100) + "%";
        setGroup(group, "uploading", text, pct * 0.3);
        items.forEach((item) => setState(item.row, "uploading", text, pct * 0.3));
      });
      xhr.addEventListener("load", () => {
        let body = null;
        try {
          body = JSON.parse(xhr.responseText);
        } catch (err) {
          body = null;
        }
        if (xhr.status >= 200 && xhr.status < 300 && body && body.jobs) {
          group.dataset.batchId = body.id;
          group._rows = pairRows(items, body.jobs);
          group._rows.forEach((row, jobId) => {
            const job = body.jobs.find((j) => j.id === jobId);
            setActions(row, job);
          });
          groupActions(group, body);
          trackBatch(group, body);
        } else {
          const error = (body && body.error) || {};
          const code = error.code || (xhr.status === 403 ? "not_authenticated" : xhr.status === 413 ? "file_too_large" : "internal_error");
          batchRefused(group, items, code, error.message || "", error.field);
        }
        resolve();
      });
      xhr.addEventListener("error", () => {
        batchRefused(group, items, "", "The connection to the server was lost; nothing was stored.", "");
        resolve();
      });
      setGroup(group, "uploading", "Uploading… 0%", 0);
      xhr.send(data);
    });
  }

  function sendAlone(item) {
    item.row._parts.actions.replaceChildren();
    hideError(item.row);
    setState(item.row, "queued", "Waiting to upload…", 0);
    waiting.push(item);
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!staged.length) return;
    const languages = chosenLanguages();
    const engine = engineSelect.value;
    const items = staged;
    staged = [];
    items.forEach((item) => {
      item.engine = engine;
      item.languages = languages;
    });
    // The button is disabled next; a keyboard user goes on from the list of files
    // (Tab reaches the first file's Cancel), not from the top of the page.
    if (document.activeElement === submit) {
      const list = document.getElementById("file-list");
      if (list) list.focus({ preventScroll: true });
    }
    updateSummary();
    items.forEach((item) => {
      item.row._parts.actions.replaceChildren();
      setState(item.row, "queued", "Waiting to upload…", 0);
    });
    // The checks made when the files were added (most have answered by now): a
    // refused file stays out; two or more good ones go as batches (signed in).
    Promise.all(items.map((item) => item.check || null)).then((problems) => {
      const good = items.filter((item, i) => !problems[i]);
      updateSummary();
      if (good.length < 2 || !batchLimits) {
        good.forEach(sendAlone);
        pump();
        return;
      }
      let chain = Promise.resolve();
      chunks(good).forEach((chunk) => {
        if (chunk.length === 1) {
          sendAlone(chunk[0]);
          pump();
        } else {
          const group = makeGroup(chunk);
          chain = chain.then(() => sendBatch(group, chunk));
        }
      });
    });
  });

  updateSummary();
})();
