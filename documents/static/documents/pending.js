/* Live 待签收: a document distributed (or forwarded, or withdrawn) to this agency reaches its 收发员
   as a `documents.exchange` notification over the socket (socket.js: `officeapp:notification`); the
   list then reloads itself through htmx (same URL, page kept), without a page reload. A 退文 form
   someone has opened is never swept away under them: the refresh waits until it is closed. */
(function () {
  "use strict";
  var timer = null;
  function busy(list) {
    return Array.prototype.some.call(list.querySelectorAll("details[open]"), function () { return true; });
  }
  function refresh() {
    timer = null;
    var list = document.querySelector("[data-pending-list]");
    if (!list || !window.htmx) return;
    if (busy(list)) { timer = setTimeout(refresh, 2000); return; }
    window.htmx.trigger(list, "pending-changed");
  }
  window.addEventListener("officeapp:notification", function (event) {
    if (!event.detail || event.detail.kind !== "documents.exchange") return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
