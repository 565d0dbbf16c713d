/* onlineocr: what every page shares (templates/base.html).
 *
 * - Theme: follows the system (prefers-color-scheme) until the header's toggle picks
 *   light or dark; the choice is kept in localStorage ("ocr-theme") and set as
 *   data-theme on <html>, where static/css/app.css redefines its colour variables.
 * - Menu: on a phone the navigation and the account sit behind one Menu button.
 * - Keyboard shortcuts, listed on the "?" overlay: / search, u upload, h history,
 *   k API keys, t theme, ? this list, Esc closes.
 * - A form sent back with errors: the first field marked aria-invalid gets the focus,
 *   so the keyboard goes on where the error is (unless the page autofocuses another).
 *
 * Loaded in <head> (no defer) so the stored theme applies before the first paint;
 * the rest waits for the document.
 */
(function () {
  "use strict";

  var STORE = "ocr-theme";
  var root = document.documentElement;
  root.classList.add("js");

  function stored() {
    try {
      var value = window.localStorage.getItem(STORE);
      return value === "light" || value === "dark" ? value : null;
    } catch (e) {
      return null; // storage blocked: follow the system
    }
  }

  function systemDark() {
    return !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  }

  function effectiveTheme() {
    return stored() || (systemDark() ? "dark" : "light");
  }

  var initial = stored();
  if (initial) root.setAttribute("data-theme", initial);

  function showTheme(button) {
    if (!button) return;
    var dark = effectiveTheme() === "dark";
    button.setAttribute("aria-pressed", dark ? "true" : "false");
    button.title = dark ? "Dark theme is on: switch to light (t)" : "Switch to the dark theme (t)";
  }

  function toggleTheme() {
    var next = effectiveTheme() === "dark" ? "light" : "dark";
    root.setAttribute("data-theme", next);
    try {
      window.localStorage.setItem(STORE, next);
    } catch (e) {
      /* not remembered, still switched */
    }
    showTheme(document.getElementById("theme-toggle"));
  }

  function typing(target) {
    if (!target || !target.closest) return false;
    if (target.isContentEditable) return true;
    return !!target.closest("input, textarea, select, [contenteditable]");
  }

  function ready() {
    var topbar = document.getElementById("topbar");
    var menuButton = document.getElementById("menu-button");
    var menu = document.getElementById("site-menu");
    var themeButton = document.getElementById("theme-toggle");
    var dialog = document.getElementById("shortcuts");

    var invalid = document.querySelector("main [aria-invalid='true']");
    if (invalid && !document.querySelector("[autofocus]") && document.activeElement === document.body) {
      invalid.focus();
    }

    if (themeButton) {
      themeButton.hidden = false;
      showTheme(themeButton);
      themeButton.addEventListener("click", toggleTheme);
      if (window.matchMedia) {
        var query = window.matchMedia("(prefers-color-scheme: dark)");
        var onChange = function () { showTheme(themeButton); };
        if (query.addEventListener) query.addEventListener("change", onChange);
      }
    }

    function setMenu(open) {
      if (!topbar || !menuButton) return;
      topbar.classList.toggle("menu-open", open);
      menuButton.setAttribute("aria-expanded", open ? "true" : "false");
    }
    function menuOpen() {
      return !!(topbar && topbar.classList.contains("menu-open"));
    }
    if (menuButton && menu && topbar) {
      menuButton.hidden = false;
      menuButton.addEventListener("click", function () { setMenu(!menuOpen()); });
      document.addEventListener("click", function (event) {
        if (menuOpen() && !topbar.contains(event.target)) setMenu(false);
      });
      menu.addEventListener("click", function (event) {
        if (event.target.closest("a")) setMenu(false);
      });
    }

    function openShortcuts() {
      if (!dialog || dialog.open) return;
      setMenu(false);
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    }
    function closeShortcuts() {
      if (!dialog || !dialog.open) return;
      if (typeof dialog.close === "function") dialog.close();
      else dialog.removeAttribute("open");
    }
    if (dialog) {
      Array.prototype.forEach.call(document.querySelectorAll(".shortcuts-hint"), function (el) {
        el.hidden = false;
      });
      Array.prototype.forEach.call(document.querySelectorAll("[data-open-shortcuts]"), function (el) {
        el.addEventListener("click", openShortcuts);
      });
      Array.prototype.forEach.call(dialog.querySelectorAll("[data-close-shortcuts]"), function (el) {
        el.addEventListener("click", closeShortcuts);
      });
      // A click on the backdrop (outside the dialog's box) closes it too.
      dialog.addEventListener("click", function (event) {
        if (event.target !== dialog) return;
        var box = dialog.getBoundingClientRect();
        var inside = event.clientX >= box.left && event.clientX <= box.right &&
          event.clientY >= box.top && event.clientY <= box.bottom;
        if (!inside) closeShortcuts();
      });
    }

    function searchField() {
      return document.querySelector("[data-shortcut-search]") ||
        document.querySelector("main input[type=search]");
    }

    function linkFor(key) {
      return document.querySelector('a[data-shortcut-key="' + key + '"]');
    }

    // A link to the history with #search focuses its search field on arrival.
    if (window.location.hash === "#search") {
      var field = searchField();
      if (field) field.focus();
    }

    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "Escape") {
        if (menuOpen()) {
          setMenu(false);
          if (menuButton) menuButton.focus();
        }
        return; // an open <dialog> closes itself on Esc
      }
      if (typing(event.target)) return;
      if (dialog && dialog.open && event.key !== "?") return;
      var link;
      switch (event.key) {
        case "?":
          event.preventDefault();
          if (dialog && dialog.open) closeShortcuts();
          else openShortcuts();
          break;
        case "/":
          var search = searchField();
          if (search) {
            event.preventDefault();
            search.focus({ preventScroll: true });
            // nearest: respects the page's scroll-padding, so the field is not left
            // under the sticky header when the page was scrolled.
            search.scrollIntoView({ block: "nearest" });
            if (search.select) search.select();
          } else if ((link = linkFor("h"))) {
            event.preventDefault();
            window.location.assign(link.href + "#search");
          }
          break;
        case "t":
          event.preventDefault();
          toggleTheme();
          break;
        case "u":
        case "h":
        case "k":
          link = linkFor(event.key);
          if (link) {
            event.preventDefault();
            window.location.assign(link.href);
          }
          break;
        default:
          break;
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
