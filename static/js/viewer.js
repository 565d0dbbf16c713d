/* Result page viewer: zoom (buttons, ctrl+wheel, pinch, keys), pan (drag), fit width /
 * fit page, rotate view; the word boxes and the text linked both ways (hover, click,
 * text selection); one tab stop for the image with arrow keys between words; search
 * in the text of every page with hits on the image. */
(function () {
  "use strict";

  const viewport = document.getElementById("viewport");
  const stage = document.getElementById("stage");
  const canvas = document.getElementById("page-canvas");
  const boxes = document.getElementById("boxes");
  const tip = document.getElementById("word-tip");
  if (!viewport || !stage || !canvas || !boxes) return;

  const W = Number(canvas.dataset.width) || 1;
  const H = Number(canvas.dataset.height) || 1;
  const rects = Array.from(boxes.querySelectorAll("rect.word"));
  const textBody = document.getElementById("text-body");
  const spans = textBody ? Array.from(textBody.querySelectorAll(".tw")) : [];
  const spanOf = new Map(spans.map((s) => [s.dataset.w, s]));
  const MIN_ZOOM = 0.1;
  const MAX_ZOOM = 8;

  /* ---- zoom, fit, rotate, pan --------------------------------------------- */
  const state = { zoom: 1, rotation: 0, fit: "width" };
  const level = document.getElementById("zoom-level");
  const fitWidthBtn = document.getElementById("fit-width");
  const fitPageBtn = document.getElementById("fit-page");

  function turned() {
    return state.rotation % 180 !== 0;
  }
  function fitZoom(kind) {
    const rw = turned() ? H : W;
    const rh = turned() ? W : H;
    const room = viewport.clientWidth - 2;
    const byWidth = room / rw;
    if (kind === "width") return byWidth;
    const height = Math.max(200, viewport.clientHeight - 2);
    return Math.min(byWidth, height / rh);
  }
  function apply() {
    const z = state.zoom;
    // Whole pixels: a fraction over the viewport's height would add a scroll bar.
    const w = Math.floor(W * z);
    const h = Math.floor(H * z);
    canvas.style.width = w + "px";
    canvas.style.height = h + "px";
    stage.style.width = (turned() ? h : w) + "px";
    stage.style.height = (turned() ? w : h) + "px";
    const shift = { 0: "", 90: `translate(${h}px, 0) `, 180: `translate(${w}px, ${h}px) `, 270: `translate(0, ${w}px) ` };
    canvas.style.transform = state.rotation ? shift[state.rotation] + `rotate(${state.rotation}deg)` : "";
    if (level) level.textContent = Math.round(z * 100) + "%";
    if (fitWidthBtn) fitWidthBtn.setAttribute("aria-pressed", String(state.fit === "width"));
    if (fitPageBtn) fitPageBtn.setAttribute("aria-pressed", String(state.fit === "page"));
    viewport.classList.toggle("zoomed", stage.offsetWidth > viewport.clientWidth + 1 || stage.offsetHeight > viewport.clientHeight + 1);
  }
  /* Zoom to ``z`` keeping the point (cx, cy) of the viewport (default: its centre) still. */
  function zoomTo(z, cx, cy) {
    z = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, z));
    const x = cx === undefined ? viewport.clientWidth / 2 : cx;
    const y = cy === undefined ? viewport.clientHeight / 2 : cy;
    const ratio = z / state.zoom;
    const left = (viewport.scrollLeft + x) * ratio - x;
    const top = (viewport.scrollTop + y) * ratio - y;
    state.zoom = z;
    state.fit = "";
    apply();
    viewport.scrollLeft = left;
    viewport.scrollTop = top;
  }
  function fit(kind) {
    state.fit = kind;
    seenWidth = viewport.clientWidth;
    state.zoom = fitZoom(kind);
    apply();
    viewport.scrollLeft = 0;
    viewport.scrollTop = 0;
  }
  function rotate() {
    state.rotation = (state.rotation + 90) % 360;
    if (state.fit) state.zoom = fitZoom(state.fit);
    apply();
  }
  const on = (id, fn) => {
    const el = document.getElementById(id);
    if (el) el.addEventListener("click", fn);
  };
  on("zoom-in", () => zoomTo(state.zoom * 1.25));
  on("zoom-out", () => zoomTo(state.zoom / 1.25));
  on("fit-width", () => fit("width"));
  on("fit-page", () => fit("page"));
  on("rotate-view", rotate);
  // Refit when the viewport's width changes (window resized, the page's scroll bar came).
  let seenWidth = viewport.clientWidth;
  const refit = () => {
    if (state.fit && viewport.clientWidth !== seenWidth) {
      seenWidth = viewport.clientWidth;
      state.zoom = fitZoom(state.fit);
      apply();
    }
  };
  if (window.ResizeObserver) new ResizeObserver(refit).observe(viewport);
  else window.addEventListener("resize", refit);

  viewport.addEventListener(
    "wheel",
    (e) => {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      const r = viewport.getBoundingClientRect();
      zoomTo(state.zoom * Math.exp(-e.deltaY / 300), e.clientX - r.left, e.clientY - r.top);
    },
    { passive: false }
  );

  // Pan with a mouse drag; pinch with two fingers (pointer events).
  const pointers = new Map();
  let drag = null;
  let pinch = null;
  viewport.addEventListener("pointerdown", (e) => {
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      pinch = { dist: Math.hypot(a.x - b.x, a.y - b.y), zoom: state.zoom };
      drag = null;
    } else if (e.pointerType === "mouse" && e.button === 0 && viewport.classList.contains("zoomed")) {
      drag = { x: e.clientX, y: e.clientY, left: viewport.scrollLeft, top: viewport.scrollTop, moved: false };
    }
  });
  viewport.addEventListener("pointermove", (e) => {
    if (!pointers.has(e.pointerId)) return;
    pointers.set(e.pointerId, { x: e.clientX, y: e.clientY });
    if (pinch && pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      const r = viewport.getBoundingClientRect();
      const d = Math.hypot(a.x - b.x, a.y - b.y);
      zoomTo(pinch.zoom * (d / pinch.dist), (a.x + b.x) / 2 - r.left, (a.y + b.y) / 2 - r.top);
    } else if (drag) {
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) {
        drag.moved = true;
        viewport.classList.add("panning");
      }
      viewport.scrollLeft = drag.left - dx;
      viewport.scrollTop = drag.top - dy;
    }
  });
  function release(e) {
    pointers.delete(e.pointerId);
    if (pointers.size < 2) pinch = null;
    if (drag && drag.moved) {
      // A drag is not a click on the box it ends on.
      window.addEventListener("click", (c) => c.stopPropagation(), { capture: true, once: true });
    }
    drag = null;
    viewport.classList.remove("panning");
  }
  viewport.addEventListener("pointerup", release);
  viewport.addEventListener("pointercancel", release);

  /* ---- linking: boxes <-> text --------------------------------------------- */
  function showTip(rect) {
    if (!tip) return;
    tip.textContent = rect.dataset.label;
    tip.hidden = false;
    const r = rect.getBoundingClientRect();
    const c = viewport.getBoundingClientRect();
    const top = r.top - c.top + viewport.scrollTop - tip.offsetHeight - 6;
    let left = r.left - c.left + viewport.scrollLeft + r.width / 2 - tip.offsetWidth / 2;
    left = Math.max(viewport.scrollLeft + 4, Math.min(left, viewport.scrollLeft + c.width - tip.offsetWidth - 4));
    tip.style.left = left + "px";
    tip.style.top = (top < viewport.scrollTop ? r.bottom - c.top + viewport.scrollTop + 6 : top) + "px";
  }
  function hideTip() {
    if (tip) tip.hidden = true;
  }
  function clear(cls) {
    document.querySelectorAll("." + cls).forEach((el) => el.classList.remove(cls));
  }
  /* Highlight words ``ids`` (data-w) in both panels with class ``cls``. */
  function mark(ids, cls) {
    clear(cls);
    ids.forEach((id) => {
      const rect = rects[Number(id)];
      if (rect) rect.classList.add(cls);
      const span = spanOf.get(String(id));
      if (span) span.classList.add(cls);
    });
  }
  function lineWords(l) {
    return rects.filter((r) => r.dataset.l === String(l)).map((r) => r.dataset.w);
  }
  /* Scroll ``el`` into view inside ``box`` only when it is not fully visible there.
   * Visible means in the part of ``box`` that is on screen (below the sticky top bar,
   * above the window's bottom): a tall viewer half below the fold still brings the
   * word into sight, without scrolling the window. */
  const topbar = document.getElementById("topbar");
  function reveal(el, box) {
    if (!el || !box) return;
    const r = el.getBoundingClientRect();
    const b = box.getBoundingClientRect();
    const barBottom = topbar ? topbar.getBoundingClientRect().bottom : 0;
    let top = Math.max(b.top, barBottom);
    let bottom = Math.min(b.bottom, window.innerHeight);
    if (bottom - top < 2 * r.height) {
      top = b.top; // the viewer is (nearly) off screen: place it in the whole viewer
      bottom = b.bottom;
    }
    if (r.top < top || r.bottom > bottom || r.left < b.left || r.right > b.right) {
      const y = box.scrollTop + (r.top - top) - (bottom - top - r.height) / 2;
      const x = box.scrollLeft + (r.left - b.left) - (b.width - r.width) / 2;
      box.scrollTo({ top: Math.max(0, y), left: Math.max(0, x), behavior: "smooth" });
    }
  }
  /* Show a box in the viewer; ``inWindow``: also scroll the window to it when the viewer
   * is off screen (a click or a search hit; never on hover or while selecting). */
  function revealBox(rect, inWindow) {
    if (!rect) return;
    reveal(rect, viewport);
    const r = rect.getBoundingClientRect();
    if (inWindow && (r.bottom < 0 || r.top > window.innerHeight)) rect.scrollIntoView({ block: "center", behavior: "smooth" });
  }

  boxes.addEventListener("mouseover", (e) => {
    const rect = e.target.closest && e.target.closest("rect.word");
    if (!rect) return;
    showTip(rect);
    mark([rect.dataset.w], "active");
    reveal(spanOf.get(rect.dataset.w), textBody);
  });
  boxes.addEventListener("mouseout", (e) => {
    const rect = e.target.closest && e.target.closest("rect.word");
    if (!rect || rect === document.activeElement) return;
    hideTip();
    clear("active");
  });
  boxes.addEventListener("click", (e) => {
    const rect = e.target.closest && e.target.closest("rect.word");
    if (!rect) return;
    mark([rect.dataset.w], "selected");
    reveal(spanOf.get(rect.dataset.w), textBody);
  });

  if (textBody) {
    textBody.addEventListener("mouseover", (e) => {
      const span = e.target.closest(".tw");
      const line = e.target.closest(".tl");
      if (span) {
        mark([span.dataset.w], "active");
        revealBox(rects[Number(span.dataset.w)]);
      } else if (line && line.dataset.l) {
        const ids = lineWords(line.dataset.l);
        mark(ids, "active");
        if (ids.length) revealBox(rects[Number(ids[0])]);
      }
    });
    textBody.addEventListener("mouseleave", () => clear("active"));
    textBody.addEventListener("click", (e) => {
      const span = e.target.closest(".tw");
      if (span && window.getSelection().isCollapsed) {
        mark([span.dataset.w], "selected");
        revealBox(rects[Number(span.dataset.w)], true);
      }
    });
    // Selecting text (mouse or keyboard) highlights the boxes of the selected words.
    document.addEventListener("selectionchange", () => {
      const sel = window.getSelection();
      if (!sel.rangeCount || sel.isCollapsed) return;
      const range = sel.getRangeAt(0);
      if (!textBody.contains(range.commonAncestorContainer)) return;
      const ids = spans.filter((s) => range.intersectsNode(s)).map((s) => s.dataset.w);
      if (!ids.length) return;
      mark(ids, "selected");
      revealBox(rects[Number(ids[0])]);
    });
  }

  /* ---- keyboard: one tab stop, arrows between words -------------------------- */
  let current = -1;
  function focusWord(i) {
    if (!rects.length) return;
    current = Math.max(0, Math.min(rects.length - 1, i));
    const rect = rects[current];
    rect.focus({ preventScroll: true });
    reveal(rect, viewport);
    showTip(rect);
    mark([rect.dataset.w], "active");
    reveal(spanOf.get(rect.dataset.w), textBody);
  }
  function nextLine(step) {
    if (current < 0) return focusWord(0);
    const l = Number(rects[current].dataset.l);
    const target = step > 0 ? rects.find((r) => Number(r.dataset.l) > l) : rects.slice(0, current).reverse().find((r) => Number(r.dataset.l) < l);
    if (!target) return;
    // The first word of that line.
    const first = rects.find((r) => r.dataset.l === target.dataset.l);
    focusWord(rects.indexOf(first));
  }
  boxes.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const keys = {
      ArrowRight: () => focusWord(current + 1),
      ArrowLeft: () => focusWord(current < 0 ? 0 : current - 1),
      ArrowDown: () => nextLine(+1),
      ArrowUp: () => nextLine(-1),
      Home: () => focusWord(0),
      End: () => focusWord(rects.length - 1),
      "+": () => zoomTo(state.zoom * 1.25),
      "=": () => zoomTo(state.zoom * 1.25),
      "-": () => zoomTo(state.zoom / 1.25),
      0: () => fit("width"),
      w: () => fit("width"),
      W: () => fit("width"),
      p: () => fit("page"),
      P: () => fit("page"),
      r: () => rotate(),
      R: () => rotate(),
      Escape: () => {
        boxes.focus();
        hideTip();
        clear("active");
      },
    };
    const action = keys[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  });
  boxes.addEventListener("focus", () => {
    if (current >= 0 && rects[current]) mark([rects[current].dataset.w], "active");
  });
  boxes.addEventListener("focusout", (e) => {
    if (!boxes.contains(e.relatedTarget)) {
      hideTip();
      clear("active");
    }
  });
  boxes.addEventListener("focusin", (e) => {
    const rect = e.target.closest && e.target.closest("rect.word");
    if (rect) current = rects.indexOf(rect);
  });

  const toggle = document.getElementById("toggle-boxes");
  if (toggle) toggle.addEventListener("change", () => boxes.classList.toggle("hidden-boxes", !toggle.checked));

  /* ---- search in the text of every page --------------------------------------- */
  const form = document.getElementById("find-form");
  const input = document.getElementById("find-input");
  const status = document.getElementById("find-status");
  const list = document.getElementById("find-pages");
  const prevBtn = document.getElementById("find-prev");
  const nextBtn = document.getElementById("find-next");
  const textsNode = document.getElementById("page-texts");
  let texts = textsNode ? JSON.parse(textsNode.textContent) : [];
  const here = form ? Number(form.dataset.page) : 1;
  let hits = [];
  let hitIndex = -1;

  function count(text, q) {
    let n = 0;
    text.toLowerCase().split("\n").forEach((line) => {
      let at = line.indexOf(q);
      while (at !== -1) {
        n += 1;
        at = line.indexOf(q, at + q.length);
      }
    });
    return n;
  }
  /* Hits on this page: for each line, the words covered by each occurrence. */
  function pageHits(q) {
    const found = [];
    if (!textBody) return found;
    textBody.querySelectorAll(".tl").forEach((line) => {
      const words = Array.from(line.querySelectorAll(".tw"));
      if (!words.length) return;
      let text = "";
      const starts = words.map((w) => {
        const start = text.length;
        text += w.textContent.toLowerCase() + " ";
        return start;
      });
      let at = text.indexOf(q);
      while (at !== -1) {
        const end = at + q.length;
        const ids = words.filter((w, i) => starts[i] < end && starts[i] + w.textContent.length > at).map((w) => w.dataset.w);
        if (ids.length) found.push(ids);
        at = text.indexOf(q, end);
      }
    });
    return found;
  }
  function goHit(i) {
    if (!hits.length) return;
    hitIndex = (i + hits.length) % hits.length;
    clear("hit-current");
    hits[hitIndex].forEach((id) => {
      if (rects[Number(id)]) rects[Number(id)].classList.add("hit-current");
      const s = spanOf.get(String(id));
      if (s) s.classList.add("hit-current");
    });
    revealBox(rects[Number(hits[hitIndex][0])], true);
    reveal(spanOf.get(String(hits[hitIndex][0])), textBody);
    status.textContent = `Match ${hitIndex + 1} of ${hits.length} on this page` + status.dataset.rest;
  }
  function search() {
    const q = input.value.trim().toLowerCase();
    clear("hit");
    clear("hit-current");
    hits = [];
    hitIndex = -1;
    list.hidden = true;
    list.textContent = "";
    const params = new URLSearchParams(window.location.search);
    if (q) params.set("q", input.value.trim());
    else params.delete("q");
    history.replaceState(null, "", "?" + params.toString());
    if (!q) {
      status.textContent = "";
      prevBtn.disabled = nextBtn.disabled = true;
      return;
    }
    hits = pageHits(q);
    hits.flat().forEach((id) => {
      if (rects[Number(id)]) rects[Number(id)].classList.add("hit");
      const s = spanOf.get(String(id));
      if (s) s.classList.add("hit");
    });
    const others = texts.filter((p) => p.number !== here).map((p) => ({ number: p.number, n: count(p.text, q) })).filter((p) => p.n);
    const total = hits.length + others.reduce((a, p) => a + p.n, 0);
    const rest = others.length ? ` · ${total} in all pages` : "";
    status.dataset.rest = rest;
    status.textContent = hits.length
      ? `${hits.length} match${hits.length === 1 ? "" : "es"} on this page` + rest
      : total
        ? `No match on this page · ${total} on other pages`
        : "No match";
    others.forEach((p) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      const link = new URLSearchParams(params);
      link.set("page", String(p.number));
      a.href = "?" + link.toString();
      a.textContent = `Page ${p.number}: ${p.n} match${p.n === 1 ? "" : "es"}`;
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = !others.length;
    prevBtn.disabled = nextBtn.disabled = !hits.length;
  }
  if (form && input) {
    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(search, 120);
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      search();
      goHit(hitIndex + 1);
    });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        if (!hits.length) search();
        goHit(e.shiftKey ? hitIndex - 1 : hitIndex + 1);
      }
    });
    nextBtn.addEventListener("click", () => goHit(hitIndex + 1));
    prevBtn.addEventListener("click", () => goHit(hitIndex - 1));
    const q = new URLSearchParams(window.location.search).get("q");
    if (q) {
      input.value = q;
      search();
    }
  }

  /* Live partial results (job.js) add the texts of pages that finish later. */
  document.addEventListener("job:pages", (e) => {
    const known = new Set(texts.map((p) => p.number));
    e.detail.forEach((p) => {
      if (!known.has(p.number)) texts.push({ number: p.number, text: p.text || "" });
    });
    if (input && input.value.trim()) search();
  });

  /* First view: fit the width once the layout is known. */
  fit("width");
})();
