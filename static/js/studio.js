// Studio page behaviour (no inline script: strict CSP). Everything degrades: without this file the
// template chips are links, the counter is static and the overlay form has an "Update preview" button.
(function () {
  "use strict";

  function setupForm(form) {
    if (form.dataset.studioReady) return;
    form.dataset.studioReady = "1";
    var prompt = form.querySelector("textarea[name=prompt]");
    var select = form.querySelector("[data-model-select]");
    var count = form.querySelector("[data-count]");
    var limitEl = form.querySelector("[data-limit]");
    var counter = form.querySelector("[data-counter]");

    function limit() {
      var opt = select && select.options[select.selectedIndex];
      return opt ? parseInt(opt.getAttribute("data-limit"), 10) || 4000 : 4000;
    }
    function update() {
      if (!prompt) return;
      var max = limit();
      prompt.maxLength = max;
      if (count) count.textContent = prompt.value.length;
      if (limitEl) limitEl.textContent = max;
      if (counter) counter.classList.toggle("counter--near", prompt.value.length > max * 0.9);
    }
    if (prompt) prompt.addEventListener("input", update);
    if (select) select.addEventListener("change", update);
    update();

    form.addEventListener("click", function (e) {
      var chip = e.target.closest("[data-insert]");
      if (!chip || !prompt) return;
      e.preventDefault();
      prompt.value = chip.getAttribute("data-insert");
      prompt.dispatchEvent(new Event("input", { bubbles: true }));
      prompt.focus();
    });
  }

  function init(root) {
    (root || document).querySelectorAll("[data-studio-form]").forEach(setupForm);
    (root || document).querySelectorAll("[data-no-js-only]").forEach(function (el) { el.hidden = true; });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target.parentNode || document); });
})();
