/* Live tracking: socket.js turns the server's `exchange.changed` frame into the window event
   `officeapp:exchange.changed`; when it concerns the document on this page, the tracking table
   reloads itself through htmx (the same URL, its filter and page kept), so a recipient's 签收,
   退文 or 办结 shows without a page reload. A burst of changes costs one reload. */
(function () {
  "use strict";
  var timer = null;
  window.addEventListener("officeapp:exchange.changed", function (event) {
    var table = document.querySelector("[data-exchange-tracking]");
    if (!table || !event.detail || String(event.detail.document_id) !== table.dataset.documentId) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      timer = null;
      var current = document.querySelector("[data-exchange-tracking]");
      if (current && window.htmx) window.htmx.trigger(current, "exchange-changed");
    }, 300);
  });
})();
