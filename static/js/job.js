/* Result page: copy button, and live progress for unfinished jobs: each page is
 * added to the page strip as soon as it is read (the first one is shown at once),
 * and the page reloads when the job ends. The viewer is static/js/viewer.js. */
(function () {
  "use strict";

  /* ---- copy ----------------------------------------------------------- */
  const copy = document.getElementById("copy-text");
  if (copy) {
    const area = document.getElementById(copy.dataset.target);
    const status = document.getElementById("copy-status");
    const label = copy.querySelector(".copy-label");
    function copied(ok) {
      label.textContent = ok ? "Copied" : "Copy";
      copy.classList.toggle("copied", ok);
      status.textContent = ok ? "The text is on your clipboard." : "Press Ctrl+C (⌘C) to copy the selected text.";
      if (ok) setTimeout(() => { label.textContent = "Copy"; copy.classList.remove("copied"); }, 2500);
    }
    copy.addEventListener("click", () => {
      const text = area.value;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(() => copied(true), () => copied(fallback()));
      } else {
        copied(fallback());
      }
    });
    function fallback() {
      try {
        area.focus();
        area.select();
        const ok = document.execCommand("copy");
        copy.focus();
        return ok;
      } catch (err) {
        return false;
      }
    }
  }

  /* ---- live progress for unfinished jobs ------------------------------ */
  const progress = document.getElementById("job-progress");
  if (progress) {
    const label = document.getElementById("job-progress-label");
    const bar = progress.querySelector(".bar");
    const meter = progress.querySelector(".progress");
    const badge = document.getElementById("job-status");
    // The first width comes as data-percent: the CSP allows no inline style attributes.
    bar.style.width = (Number(bar.dataset.percent) || 0) + "%";
    let delay = 500;
    let shown = Number(progress.dataset.shown) || 0;
    /* Pages read so far (GET /api/ocr/{id}/pages/): the first one is shown at once, the
     * others appear in the page strip as links, and the search covers their text. */
    function showPages() {
      fetch(progress.dataset.pagesUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => r.json())
        .then((pages) => {
          const ready = pages.filter((p) => p.status === "done" && p.result);
          if (ready.length && !document.getElementById("viewer")) {
            window.location.reload();
            return;
          }
          ready.forEach((p) => {
            const item = document.querySelector(`.thumb-item[data-page="${p.number}"]`);
            if (!item || item.classList.contains("done")) return;
            item.className = "thumb-item done just-read";
            const a = document.createElement("a");
            a.href = "?page=" + p.number;
            const img = document.createElement("img");
            img.alt = "";
            img.src = `${progress.dataset.pagesUrl}${p.number}/image/?max_width=160`;
            const label = document.createElement("span");
            label.textContent = "Page " + p.number;
            a.append(img, label);
            item.replaceChildren(a);
          });
          pages.filter((p) => p.status === "failed").forEach((p) => {
            const item = document.querySelector(`.thumb-item[data-page="${p.number}"]`);
            if (item && !item.classList.contains("failed")) {
              item.className = "thumb-item failed";
              const note = item.querySelector(".thumb-note");
              if (note) note.textContent = "could not be read";
            }
          });
          updatePager(ready.map((p) => p.number));
          document.dispatchEvent(new CustomEvent("job:pages", { detail: ready }));
        })
        .catch(() => {});
    }
    /* Previous / Next follow the pages read so far. */
    function updatePager(numbers) {
      const pager = document.querySelector(".pager");
      const form = document.getElementById("find-form");
      if (!pager || !form) return;
      const here = Number(form.dataset.page);
      const before = numbers.filter((n) => n < here);
      const after = numbers.filter((n) => n > here);
      const ends = [pager.firstElementChild, pager.lastElementChild];
      [[ends[0], before.length ? Math.max(...before) : 0, "prev", "‹ Previous"],
       [ends[1], after.length ? Math.min(...after) : 0, "next", "Next ›"]].forEach(([el, n, rel, text]) => {
        if (!n || !el) return;
        const a = document.createElement("a");
        a.className = "btn btn-sm";
        a.href = "?page=" + n;
        a.rel = rel;
        a.textContent = text;
        el.replaceWith(a);
      });
    }
    function poll() {
      fetch(progress.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => r.json())
        .then((job) => {
          if (["done", "failed", "canceled"].includes(job.status)) {
            window.location.reload();
            return;
          }
          badge.textContent = job.status === "pending" ? "Pending" : "Processing";
          badge.className = "badge status-" + job.status;
          const pages = job.page_count || 1;
          const done = job.pages_done || 0;
          label.textContent = job.status === "pending"
            ? "Waiting for a worker…"
            : pages > 1 ? "Recognising · " + done + " of " + pages + " pages done" : "Recognising text…";
          if (pages > 1) {
            meter.classList.remove("indeterminate");
            bar.style.width = Math.round((done / pages) * 100) + "%";
            meter.setAttribute("aria-valuenow", String(done));
          }
          if (done > shown) {
            shown = done;
            showPages();
          }
          delay = Math.min(delay * 1.25, 2500);
          setTimeout(poll, delay);
        })
        .catch(() => setTimeout(poll, 3000));
    }
    setTimeout(poll, delay);
  }
})();
