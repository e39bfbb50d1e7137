// Refreshes the queue table every 10 seconds (new entries appear without a reload). The table
// is fetched as server-rendered HTML from the same origin; focus inside it is kept where it was.
(function () {
  "use strict";
  var box = document.getElementById("koe-indhold");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-poll");
  function refresh() {
    if (document.hidden || box.contains(document.activeElement)) { return; }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || r.status === 401 || r.status === 403) { window.location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html !== null && html !== undefined) { box.innerHTML = html; } })
      .catch(function () { /* the next round tries again */ });
  }
  window.setInterval(refresh, 10000);
})();
