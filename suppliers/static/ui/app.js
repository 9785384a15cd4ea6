// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Report form: show who would be liable (liability rule) before the incident is saved.
  function setupLiabilityPreview() {
    var box = document.getElementById("liability-preview");
    if (!box) { return; }
    var source = document.getElementById("id_source_supplier");
    var occurred = document.getElementById("id_occurred_on");
    if (!source || !occurred) { return; }
    var url = box.getAttribute("data-url");

    function refresh() {
      if (!source.value || !occurred.value) {
        box.hidden = true;
        return;
      }
      var query = "?source_supplier=" + encodeURIComponent(source.value) +
        "&occurred_on=" + encodeURIComponent(occurred.value);
      fetch(url + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { box.hidden = true; return; }
          box.hidden = false;
          box.classList.toggle("none", !data.responsible_supplier);
          box.textContent = data.responsible_supplier
            ? "Liable if saved: " + data.responsible_supplier + " under " + data.nda + "."
            : "No NDA reaches this supplier on that date: staff must decide liability.";
        })
        .catch(function () { box.hidden = true; });
    }
    source.addEventListener("change", refresh);
    occurred.addEventListener("change", refresh);
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupLiabilityPreview();
  });
})();
