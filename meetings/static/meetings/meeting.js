/* The meeting pages. (1) The 回执 form shows the reason box only for 请假 and the delegate choice
   only for 指派他人. (2) The organiser's statistics ([data-meeting-stats]) ask the shared socket
   (officeapp/socket.js) for "meeting.stats.watch" whenever it (re)connects and redraw the counts and
   the non-repliers on every "meeting.stats" frame; names are set with textContent. */
(function () {
  "use strict";
  var form = document.querySelector("[data-rsvp-form]");
  if (form) {
    var sync = function () {
      var checked = form.querySelector("input[name=reply]:checked");
      var value = checked ? checked.value : "";
      form.querySelectorAll("[data-when]").forEach(function (el) {
        el.hidden = el.getAttribute("data-when") !== value;
      });
    };
    form.addEventListener("change", sync);
    sync();
  }

  var panel = document.querySelector("[data-meeting-stats]");
  if (!panel) return;
  var meetingId = parseInt(panel.getAttribute("data-meeting-stats"), 10);
  var list = panel.querySelector("[data-silent]");
  var more = panel.querySelector("[data-silent-more]");
  var live = panel.querySelector("[data-stats-live]");

  function socket() { return window.officeapp && window.officeapp.socket; }
  function watch() { if (socket()) socket().send({ type: "meeting.stats.watch", meeting: meetingId }); }

  function draw(frame) {
    var stats = frame.stats || {};
    Object.keys(stats).forEach(function (key) {
      panel.querySelectorAll('[data-stat="' + key + '"]').forEach(function (el) { el.textContent = String(stats[key]); });
    });
    if (list && Array.isArray(frame.silent_people)) {
      while (list.firstChild) list.removeChild(list.firstChild);
      frame.silent_people.forEach(function (p) {
        var li = document.createElement("li");
        li.textContent = p.name + " ";
        var unit = document.createElement("span");
        unit.className = "muted";
        unit.textContent = p.unit + (p.reminded ? " · 已提醒" : "");
        li.appendChild(unit);
        list.appendChild(li);
      });
      if (!frame.silent_people.length) {
        var none = document.createElement("li");
        none.className = "muted";
        none.textContent = "全部已回执。";
        list.appendChild(none);
      }
      if (more) more.hidden = (stats.silent || 0) <= frame.silent_people.length;
    }
    if (live) live.hidden = false;
  }

  window.addEventListener("officeapp:socket.open", watch);
  window.addEventListener("officeapp:meeting.stats", function (e) {
    if (e.detail && e.detail.meeting === meetingId) draw(e.detail);
  });
  watch();
})();
