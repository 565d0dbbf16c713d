/* A webhook endpoint's page: while a delivery of its log is queued, sending or due
   for a retry within a minute (the server marks the log data-live="1"), the log is
   fetched again every 1.5 s and swapped in place, so a test event's answer appears
   without a reload. Stops when nothing is in flight, after 3 minutes, or when the
   reader has opened a delivery's details (so it does not close under them). */
(function () {
  "use strict";
  const log = document.getElementById("delivery-log");
  const live = document.getElementById("log-live");
  if (!log) return;
  const started = Date.now();
  const LIMIT_MS = 3 * 60 * 1000;
  let timer = null;

  function inFlight() {
    return log.dataset.live === "1";
  }

  async function refresh() {
    timer = null;
    if (log.querySelector("details[open]")) {
      live.textContent = "Updates paused while details are open.";
      timer = setTimeout(refresh, 1500);
      return;
    }
    try {
      const response = await fetch(window.location.href, {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
        cache: "no-store",
      });
      if (!response.ok) throw new Error(String(response.status));
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("delivery-log");
      if (fresh) {
        log.innerHTML = fresh.innerHTML;
        log.dataset.live = fresh.dataset.live;
      }
    } catch (err) {
      live.textContent = "Could not refresh the log; reload the page to see the latest.";
      return;
    }
    schedule();
  }

  function schedule() {
    if (inFlight() && Date.now() - started < LIMIT_MS) {
      live.textContent = "Updating\u2026";
      timer = timer || setTimeout(refresh, 1500);
    } else {
      live.textContent = "";
    }
  }

  schedule();
})();
