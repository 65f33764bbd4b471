/* The door page follows check-ins live: it asks the shared socket (officeapp/socket.js) for the
   organiser's statistics ("meeting.stats.watch"), updates 已签到 N / 应到 M from each
   "meeting.stats" frame and, when the number checked in moved, fetches the two lists again. */
(function () {
  "use strict";
  var door = document.querySelector("[data-checkin-door]");
  if (!door || !window.officeapp || !window.officeapp.socket) return;
  var meeting = parseInt(door.getAttribute("data-meeting"), 10);
  var listsUrl = door.getAttribute("data-lists-url");
  var checkedIn = door.querySelector("[data-checked-in]");
  var expected = door.querySelector("[data-expected]");
  var lists = document.querySelector("[data-checkin-lists]");

  function watch() { window.officeapp.socket.send({ type: "meeting.stats.watch", meeting: meeting }); }

  function refreshLists() {
    fetch(listsUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null && lists) lists.innerHTML = html; })
      .catch(function () { /* the next frame tries again */ });
  }

  window.addEventListener("officeapp:meeting.stats", function (e) {
    var frame = e.detail || {};
    if (frame.meeting !== meeting || !frame.stats) return;
    var before = checkedIn.textContent;
    checkedIn.textContent = String(frame.stats.checked_in);
    expected.textContent = String(frame.stats.expected);
    if (before !== checkedIn.textContent) refreshLists();
  });
  // Subscribe again after every reconnect: the server forgets a closed socket's groups.
  window.addEventListener("officeapp:socket.open", watch);
  watch();
})();
