// Marquee page behaviour. No inline script (strict CSP): everything hangs off data- attributes,
// and every page still works without this file (forms post and redirect).
(function () {
  "use strict";

  var FORMATS = { poster: [1200, 1800], square: [1200, 1200], banner: [2160, 1089] };
  var CROP_MAX_LOSS = 0.08; // keep in step with webapp.imaging.CROP_MAX_LOSS
  var TYPES = ["image/jpeg", "image/png", "image/webp"];

  function cropLoss(w, h, tw, th) {
    var src = w / h, dst = tw / th;
    return src > dst ? 1 - dst / src : 1 - src / dst;
  }

  function fmtBytes(n) {
    if (n < 1024) return n + " bytes";
    if (n < 1024 * 1024) return (n / 1024).toFixed(0) + " KB";
    return (n / (1024 * 1024)).toFixed(1) + " MB";
  }

  function setupUpload(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector("[data-dropzone]");
    var title = form.querySelector("[data-file-title]");
    var hint = form.querySelector("[data-file-hint]");
    var preview = form.querySelector("[data-preview]");
    var error = form.querySelector("[data-client-error]");
    var maxBytes = parseInt(form.dataset.maxBytes, 10);
    var maxW = parseInt(form.dataset.maxWidth, 10), maxH = parseInt(form.dataset.maxHeight, 10);
    var defaultHint = hint ? hint.textContent : "";

    function showError(msg) {
      if (!error) return;
      error.textContent = msg || "";
      error.hidden = !msg;
      zone.classList.toggle("dropzone--error", !!msg);
    }

    // The hint under each format's fill menu says what *that* fill will do with this image (issue 19:
    // it used to describe cropping whatever fill was chosen). Without a measured image (none chosen yet,
    // or several files) it describes the fill in general. Updated when the fill or the image changes.
    var measured = null;

    function fillHint(fill, size, dims) {
      if (!dims) {
        if (fill === "crop") return "Crops to fill when little would be lost; otherwise the blurred backdrop is used.";
        if (fill === "solid") return "The whole artwork on a plain colour taken from its edges.";
        return "The whole artwork on a softly blurred copy of itself.";
      }
      var w = dims[0], h = dims[1], tw = size[0], th = size[1];
      var loss = cropLoss(w, h, tw, th);
      var pct = Math.round(loss * 100);
      var wider = w / h > tw / th;
      var where = wider ? "above and below" : "at the sides";
      var trimmed = wider ? "from the sides" : "from the top and bottom";
      if (fill === "crop") {
        return loss <= CROP_MAX_LOSS
          ? "Crop to fill trims " + pct + "% " + trimmed + " — fine for this image."
          : "Crop would trim " + pct + "% " + trimmed + ", too much: the blurred backdrop is used instead.";
      }
      if (loss < 0.01) return "Fits almost exactly: the whole artwork, with only a thin margin.";
      var fillName = fill === "solid" ? "a plain colour from its edges" : "a blurred copy of itself";
      return "The whole artwork; " + fillName + " fills the space " + where + ".";
    }

    function cropHints(w, h) {
      if (w && h) measured = [w, h];
      else if (w === null) measured = null;
      // Every format row names its size (data-width/-height); FORMATS covers older markup.
      form.querySelectorAll("[data-crop-hint]").forEach(function (el) {
        var name = el.getAttribute("data-crop-hint");
        var tw = parseInt(el.dataset.width, 10) || (FORMATS[name] || [])[0];
        var th = parseInt(el.dataset.height, 10) || (FORMATS[name] || [])[1];
        if (!tw || !th) return;
        var select = form.querySelector('select[data-format="' + name + '"]');
        var fill = select ? select.value : "blur";
        el.textContent = fillHint(fill, [tw, th], measured);
        el.dataset.fill = fill;
      });
    }

    form.querySelectorAll("select[data-format]").forEach(function (select) {
      select.addEventListener("change", function () { cropHints(); });
    });
    cropHints();

    function inspect(file) {
      showError("");
      if (!file) return;
      title.textContent = file.name;
      hint.textContent = fmtBytes(file.size) + (file.type ? " · " + file.type.replace("image/", "").toUpperCase() : "");
      if (file.type && TYPES.indexOf(file.type) < 0) {
        showError("This looks like a " + (file.type || "non-image") + " file. Upload a JPEG, PNG or WebP image.");
      } else if (file.size > maxBytes) {
        showError("The file is " + fmtBytes(file.size) + "; the largest allowed is " + fmtBytes(maxBytes) + ".");
      }
      var url = URL.createObjectURL(file);
      var img = new Image();
      img.onload = function () {
        hint.textContent += " · " + img.naturalWidth + "×" + img.naturalHeight + " px";
        if (img.naturalWidth > maxW || img.naturalHeight > maxH) {
          showError("The image is " + img.naturalWidth + "×" + img.naturalHeight + " pixels; the largest allowed is " + maxW + "×" + maxH + ".");
        }
        cropHints(img.naturalWidth, img.naturalHeight);
        preview.src = url;
        preview.hidden = false;
      };
      img.onerror = function () { preview.hidden = true; URL.revokeObjectURL(url); };
      img.src = url;
    }

    var maxFiles = parseInt(form.dataset.maxFiles || "1", 10);

    function inspectAll(files) {
      if (!files || !files.length) return;
      if (files.length === 1) { inspect(files[0]); return; }
      showError("");
      var total = 0, problems = [];
      Array.prototype.forEach.call(files, function (f) {
        total += f.size;
        if (f.type && TYPES.indexOf(f.type) < 0) problems.push(f.name + " is not a JPEG, PNG or WebP image.");
        else if (f.size > maxBytes) problems.push(f.name + " is " + fmtBytes(f.size) + "; the largest allowed is " + fmtBytes(maxBytes) + ".");
      });
      title.textContent = files.length + " files selected";
      hint.textContent = fmtBytes(total) + " in total · one job per image, one ZIP for all";
      if (files.length > maxFiles) problems.unshift("Upload at most " + maxFiles + " files at once (" + files.length + " chosen).");
      if (problems.length) showError(problems.join(" "));
      cropHints(null);  // several images: describe each fill in general
      var url = URL.createObjectURL(files[0]);
      preview.src = url;
      preview.hidden = false;
    }

    input.addEventListener("change", function () { inspectAll(input.files); });
    ["dragenter", "dragover"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("dropzone--over"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("dropzone--over"); });
    });
    zone.addEventListener("drop", function (e) {
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      inspectAll(input.files);
    });
    if (!input.files || !input.files.length) { hint.textContent = defaultHint; }

    // Don't send 40 MB just to be told it's too big: stop here when the browser already knows.
    function blockIfInvalid(e) {
      if (error && !error.hidden && input.files && input.files.length) {
        e.preventDefault();
        error.focus && error.focus();
      }
    }
    form.addEventListener("submit", blockIfInvalid);
    form.addEventListener("htmx:confirm", blockIfInvalid);

    var bar = form.querySelector("[data-upload-progress]");
    form.addEventListener("htmx:xhr:progress", function (e) {
      if (!bar || !e.detail.lengthComputable) return;
      bar.hidden = false;
      var pct = Math.round((e.detail.loaded / e.detail.total) * 100);
      bar.querySelector("progress").value = pct;
      bar.querySelector("[data-upload-percent]").textContent = pct < 100 ? pct + "% uploaded" : "Uploaded — starting…";
    });
  }

  // A response htmx does not swap (5xx, 404, timeouts) must not fail silently.
  function showRequestError(text) {
    var main = document.getElementById("main");
    if (!main) return;
    var box = document.getElementById("request-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "request-error";
      box.className = "flash flash--error";
      box.setAttribute("role", "alert");
      main.insertBefore(box, main.firstChild);
    }
    box.textContent = text;
  }
  document.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr, text = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var err = doc.querySelector(".flash--error, .card p");
      text = err ? err.textContent.trim() : "";
    } catch (ignored) { text = ""; }
    showRequestError(text || ("The server answered " + xhr.status + ". Try again in a moment."));
  });
  document.addEventListener("htmx:sendError", function () {
    showRequestError("Could not reach Marquee. Check your connection; the page will keep trying.");
  });

  // Library: "select all", a live count, and the colour picker switching colour search on.
  function setupSelection(form) {
    if (form.dataset.ready) return;
    form.dataset.ready = "1";
    var all = form.querySelector("[data-select-all]");
    var count = form.querySelector("[data-selected-count]");
    function update() {
      var n = form.querySelectorAll("input[name=ids]:checked").length;
      if (count) count.textContent = n + " selected";
    }
    if (all) all.addEventListener("change", function () {
      // Only what is on screen: the members of a closed stack are not (issue 19).
      form.querySelectorAll("input[name=ids]").forEach(function (box) {
        if (box.offsetParent !== null || !all.checked) box.checked = all.checked;
      });
      update();
    });
    form.addEventListener("change", update);
    update();
  }

  function setupColorFilter(root) {
    (root || document).querySelectorAll("input[type=color]").forEach(function (picker) {
      if (picker.dataset.ready) return;
      picker.dataset.ready = "1";
      var toggle = picker.form && picker.form.querySelector("[data-color-toggle]");
      picker.addEventListener("input", function () { if (toggle) toggle.checked = true; });
      if (!toggle || !picker.form) return;
      // The colour is a filter only when "By colour" is ticked: otherwise it stays out of the
      // request and the URL (a shared library link should not carry a colour nobody chose).
      picker.form.addEventListener("htmx:configRequest", function (evt) {
        if (!toggle.checked) delete evt.detail.parameters[picker.name];
      });
      picker.form.addEventListener("submit", function () {
        if (!toggle.checked) {
          picker.disabled = true;
          setTimeout(function () { picker.disabled = false; }, 0);
        }
      });
    });
  }

  function guessZone(root) {
    (root || document).querySelectorAll("select[data-guess-zone]").forEach(function (select) {
      if (select.dataset.guessed) return;
      select.dataset.guessed = "1";
      var zone = "";
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
      if (zone && select.querySelector('option[value="' + zone.replace(/"/g, "") + '"]')) select.value = zone;
    });
  }

  // "Copy" next to an example (the API reference): copies the text of the element named by data-copy.
  // Without JavaScript (or clipboard access) the example is still plain, selectable text.
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.dataset.copy);
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  function init(root) {
    guessZone(root);
    (root || document).querySelectorAll("form.upload").forEach(setupUpload);
    (root || document).querySelectorAll("form[data-selection]").forEach(setupSelection);
    setupColorFilter(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (e) { init(e.target.parentNode || document); });
})();
