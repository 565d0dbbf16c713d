/* Batch page: live progress while the batch runs. Polls GET /api/batches/{id}/,
 * updates the status, the counts, the progress bar and each document's row, and
 * reloads when the batch has ended (then the downloads and the outcome show). */
(function () {
  "use strict";

  const progress = document.getElementById("batch-progress");
  if (!progress) return;
  const label = document.getElementById("batch-progress-label");
  const meter = progress.querySelector(".progress");
  const bar = progress.querySelector(".bar");
  const badge = document.getElementById("batch-status");
  const STATUS_NAMES = {
    pending: "Pending",
    processing: "Processing",
    done: "Done",
    failed: "Failed",
    canceled: "Canceled",
  };
  // The first width comes as data-percent: the CSP allows no inline style attributes.
  bar.style.width = (Number(bar.dataset.percent) || 0) + "%";

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function showRow(job) {
    const row = document.querySelector('tr.batch-job-row[data-job-id="' + job.id + '"]');
    if (!row) return; // on another page of the table
    const cell = row.querySelector(".badge");
    cell.className = "badge status-" + job.status;
    cell.textContent = STATUS_NAMES[job.status] || job.status;
    row.querySelector(".pages-cell").textContent =
      job.status === "done" ? String(job.page_count) : job.pages_done + "/" + job.page_count;
    const error = row.querySelector(".job-error");
    if (error && job.error) {
      error.textContent = job.error.message || job.error.code;
      error.hidden = false;
    }
  }

  function show(batch) {
    badge.className = "badge status-" + batch.status;
    badge.textContent = STATUS_NAMES[batch.status] || batch.status;
    const counts = batch.counts || {};
    Object.keys(counts).forEach((status) => {
      const cell = document.getElementById("count-" + status);
      if (!cell) return;
      cell.textContent = String(counts[status]);
      cell.parentElement.classList.toggle("stat-zero", !counts[status]);
    });
    const pages = batch.page_count || 0;
    const done = batch.pages_done || 0;
    document.getElementById("count-pages").textContent = done + " / " + pages;
    const ended = (counts.done || 0) + (counts.failed || 0) + (counts.canceled || 0);
    label.textContent = batch.status === "pending"
      ? "Waiting for a worker…"
      : "Recognising · " + done + " of " + plural(pages, "page") + " · " + ended + " of " +
        plural(batch.job_count, "document") + " ended";
    bar.style.width = (pages ? Math.round((done / pages) * 100) : 0) + "%";
    meter.setAttribute("aria-valuemax", String(pages));
    meter.setAttribute("aria-valuenow", String(done));
    (batch.jobs || []).forEach(showRow);
  }

  let delay = 600;
  function poll() {
    fetch(progress.dataset.batchUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      })
      .then((batch) => {
        if (["done", "failed", "canceled"].includes(batch.status)) {
          window.location.reload();
          return;
        }
        show(batch);
        // Big batches answer with many jobs: ask less often.
        const ceiling = batch.job_count > 200 ? 6000 : 2500;
        delay = Math.min(delay * 1.25, ceiling);
        setTimeout(poll, delay);
      })
      .catch(() => setTimeout(poll, 4000));
  }
  setTimeout(poll, delay);
})();
