/* Live inbox: socket.js turns the server's `inbox.changed` frame into the window event
   `officeapp:inbox.changed`; the list reloads itself through htmx (the same URL, its filters kept),
   so a new task appears and a finished one goes without a page reload — and so does a 传阅 item on
   the 待阅 / 已阅 tabs (workflows/circulation.py sends the same frame when one arrives or is read),
   with the counts on every tab. Several changes in a burst (a 会签 split creates one task per
   party) cost one reload. */
(function () {
  "use strict";
  var timer = null;
  window.addEventListener("officeapp:inbox.changed", function () {
    if (timer) clearTimeout(timer);
    timer = setTimeout(function () {
      timer = null;
      var list = document.querySelector("[data-inbox-list]");
      if (list && window.htmx) window.htmx.trigger(list, "inbox-changed");
    }, 300);
  });
})();
