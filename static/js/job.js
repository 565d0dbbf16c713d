/* Result page: word box tooltips (hover and keyboard focus), box toggle, copy
 * button, and live progress for unfinished jobs (reloads when the job ends). */
(function () {
  "use strict";

  /* ---- word boxes ----------------------------------------------------- */
  const canvas = document.getElementById("page-canvas");
  const tip = document.getElementById("word-tip");
  const boxes = document.getElementById("boxes");
  if (canvas && tip && boxes) {
    function show(rect) {
      tip.textContent = rect.dataset.label;
      tip.hidden = false;
      const r = rect.getBoundingClientRect();
      const c = canvas.getBoundingClientRect();
      const top = r.top - c.top - tip.offsetHeight - 6;
      let left = r.left - c.left + r.width / 2 - tip.offsetWidth / 2;
      left = Math.max(4, Math.min(left, c.width - tip.offsetWidth - 4));
      tip.style.left = left + "px";
      tip.style.top = (top < 0 ? r.bottom - c.top + 6 : top) + "px";
      boxes.querySelectorAll(".word.active").forEach((w) => w.classList.remove("active"));
      rect.classList.add("active");
    }
    function hide(rect) {
      tip.hidden = true;
      rect.classList.remove("active");
    }
    boxes.addEventListener("mouseover", (e) => {
      if (e.target.classList && e.target.classList.contains("word")) show(e.target);
    });
    boxes.addEventListener("mouseout", (e) => {
      if (e.target.classList && e.target.classList.contains("word")) hide(e.target);
    });
    boxes.addEventListener("focusin", (e) => {
      if (e.target.classList && e.target.classList.contains("word")) show(e.target);
    });
    boxes.addEventListener("focusout", (e) => {
      if (e.target.classList && e.target.classList.contains("word")) hide(e.target);
    });
    const toggle = document.getElementById("toggle-boxes");
    if (toggle) {
      toggle.addEventListener("change", () => boxes.classList.toggle("hidden-boxes", !toggle.checked));
    }
  }

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
      area.focus();
      area.select();
      const text = area.value;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(() => copied(true), () => copied(fallback()));
      } else {
        copied(fallback());
      }
    });
    function fallback() {
      try {
        return document.execCommand("copy");
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
          delay = Math.min(delay * 1.25, 2500);
          setTimeout(poll, delay);
        })
        .catch(() => setTimeout(poll, 3000));
    }
    setTimeout(poll, delay);
  }
})();
