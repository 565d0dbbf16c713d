// The admin's job review page (templates/admin/ocr/job/change_form.html): one button
// opens or closes the text of every page at once; it follows pages opened one by one.
(function () {
  "use strict";

  function init() {
    var button = document.getElementById("toggle-texts");
    if (!button) return;
    var pages = Array.prototype.slice.call(document.querySelectorAll("details.ocr-page-text"));
    function allOpen() {
      return pages.every(function (d) { return d.open; });
    }
    function label() {
      var open = allOpen();
      button.textContent = open ? "Collapse all" : "Expand all";
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () {
      var open = !allOpen();
      pages.forEach(function (d) { d.open = open; });
      label();
    });
    pages.forEach(function (d) { d.addEventListener("toggle", label); });
    button.hidden = false;
    label();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
