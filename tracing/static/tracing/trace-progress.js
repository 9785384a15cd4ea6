// A pending trace on the incident page: ask the API every few seconds and reload the
// page when the result is in. Without this file the page has a Refresh link.
(function () {
  "use strict";
  var pending = document.querySelectorAll("[data-trace-pending]");
  if (!pending.length) { return; }
  var tries = 0;
  function poll() {
    tries += 1;
    var checks = Array.prototype.map.call(pending, function (node) {
      return fetch(node.getAttribute("data-trace-pending"), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) { return response.ok ? response.json() : null; });
    });
    Promise.all(checks).then(function (traces) {
      var done = traces.some(function (trace) { return trace && trace.status !== "pending"; });
      if (done) {
        window.location.reload();
      } else if (tries < 120) {
        window.setTimeout(poll, 3000);
      }
    });
  }
  window.setTimeout(poll, 2000);
}());
