// Bulk batch page: a live "N selected" count, the large preview in a <dialog>, and select all/none
// without a reload. No inline script (strict CSP); every control also works as a plain form post.
(function () {
  "use strict";

  function countSelected() {
    var form = document.querySelector("[data-bulk-selection]");
    if (!form) return;
    var label = form.querySelector("[data-selected-count]");
    var boxes = form.querySelectorAll("input[name=ids]");
    var on = form.querySelectorAll("input[name=ids]:checked").length;
    if (label) label.textContent = boxes.length ? "· " + on + " of " + boxes.length + " selected" : "";
    boxes.forEach(function (box) {
      var tile = box.closest(".btile");
      if (tile) tile.classList.toggle("btile--off", !box.checked);
    });
  }

  function openPreview(link) {
    var dialog = document.getElementById("bulk-preview");
    if (!dialog || typeof dialog.showModal !== "function") return false;
    dialog.querySelector("[data-preview-img]").src = link.dataset.full;
    dialog.querySelector("[data-preview-img]").alt = link.dataset.prompt || "";
    dialog.querySelector("[data-preview-prompt]").textContent = link.dataset.prompt || "";
    var revised = link.dataset.revised || "";
    dialog.querySelector("[data-preview-revised]").textContent = revised;
    dialog.querySelector("[data-preview-revised-wrap]").hidden = !revised;
    dialog.showModal();
    return true;
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("[data-preview]");
    if (link && !e.metaKey && !e.ctrlKey && !e.shiftKey && openPreview(link)) {
      e.preventDefault();
      return;
    }
    var dialog = document.getElementById("bulk-preview");
    if (dialog && e.target === dialog) dialog.close(); // a click on the backdrop
    var button = e.target.closest && e.target.closest("[data-select]");
    if (button && window.htmx) {
      // Tick/untick locally and post once, instead of a full page reload.
      e.preventDefault();
      var form = button.form, on = button.dataset.select === "all";
      form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = on; });
      countSelected();
      window.htmx.trigger(form, "change");
    }
  });

  document.addEventListener("change", function (e) {
    if (e.target.name === "ids") countSelected();
  });
  document.addEventListener("DOMContentLoaded", countSelected);
  document.addEventListener("htmx:afterSettle", countSelected);
})();
