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
          // The sentences come translated from the page (data-liable-text, data-nobody-text).
          box.textContent = data.responsible_supplier
            ? box.getAttribute("data-liable-text")
              .replace("{supplier}", data.responsible_supplier).replace("{nda}", data.nda)
            : box.getAttribute("data-nobody-text");
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

// Searchable pickers: a select marked data-searchable (countries, currencies, suppliers,
// time zones) gets a filter box above it; typing part of a code or a name keeps only the
// options that match. Without this file the select still works (type-ahead by code).
(function () {
  "use strict";

  function setupSearchableSelect(select) {
    var box = document.createElement("input");
    box.type = "search";
    box.className = "picker-search";
    // Words from the page, translated there (base.html's body data attributes).
    var words = document.body.dataset;
    box.setAttribute("placeholder", select.getAttribute("data-search-placeholder") || words.filterPlaceholder || "Type to filter…");
    box.setAttribute("aria-label", (words.filterLabel || "Filter the choices of {label}").replace("{label}", select.labels && select.labels[0] ? select.labels[0].textContent.trim() : ""));
    box.setAttribute("aria-controls", select.id);
    var options = Array.prototype.slice.call(select.options);
    if (select.hasAttribute("data-lookup")) {
      setupLookup(select, box, options);
      select.parentNode.insertBefore(box, select);
      return;
    }
    box.addEventListener("input", function () {
      var needle = box.value.trim().toLowerCase();
      var firstMatch = null;
      options.forEach(function (option) {
        var match = !needle || option.value === "" || option.text.toLowerCase().indexOf(needle) !== -1;
        option.hidden = !match;
        option.disabled = !match && !option.selected;
        if (match && option.value !== "" && firstMatch === null) { firstMatch = option; }
      });
      if (needle && firstMatch && (select.selectedIndex < 0 || select.options[select.selectedIndex].hidden)) {
        firstMatch.selected = true;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); select.focus(); }
    });
    select.parentNode.insertBefore(box, select);
  }

  // A select with more rows than the page holds (data-lookup: an API list, config.widgets.
  // LookupSelect): typing asks that list and its results replace the options;
  // the empty choice and the selected one stay. An empty box brings the page's rows back.
  function setupLookup(select, box, pageOptions) {
    var url = select.getAttribute("data-lookup");
    var resultText = select.getAttribute("data-lookup-text") || "{name}";
    var words = document.body.dataset;
    var timer = null;
    var asked = 0;

    var emptyOptions = pageOptions.filter(function (option) { return option.value === ""; });

    // The empty choice first, then what is chosen and not among the rows, then the rows
    // (a chosen one keeps its own option, and so stays chosen).
    function show(rows) {
      var chosen = {};
      Array.prototype.forEach.call(select.options, function (option) {
        if (option.selected && option.value !== "") { chosen[option.value] = option; }
      });
      var listed = {};
      var shown = [];
      rows.forEach(function (option) {
        if (option.value === "") { return; }
        listed[option.value] = true;
        shown.push(chosen[option.value] || option);
      });
      var missing = Object.keys(chosen)
        .filter(function (value) { return !listed[value]; })
        .map(function (value) { return chosen[value]; });
      select.textContent = "";
      emptyOptions.concat(missing, shown).forEach(function (option) { select.appendChild(option); });
    }

    function search() {
      var term = box.value.trim();
      var ticket = ++asked;
      if (!term) { show(pageOptions); return; }
      // The URL ends in the parameter the text goes in (config.widgets.Lookup.url).
      fetch(url + encodeURIComponent(term), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data || ticket !== asked) { return; }
          var rows = (data.results || []).map(function (item) {
            var text = resultText.replace(/\{(\w+)\}/g, function (whole, field) {
              return item[field] === null || item[field] === undefined ? "" : String(item[field]);
            });
            return new Option(text, String(item.id));
          });
          if (!rows.length) {
            var none = new Option(words.lookupNone || "Nothing matches", "-");
            none.disabled = true;
            rows.push(none);
          }
          show(rows);
        })
        .catch(function () { /* the page's rows stay */ });
    }

    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); window.clearTimeout(timer); search(); select.focus(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var selects = document.querySelectorAll("select[data-searchable]");
    Array.prototype.forEach.call(selects, setupSearchableSelect);
  });
})();
