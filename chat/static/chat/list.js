/* The conversation list (chat/templates/chat/index.html), live: a new message moves its conversation
   to the top (below the pinned ones), bumps its unread badge and shows its text (textContent only).
   It subscribes to all the user's conversations over the one socket on every (re)open; a live message
   of a conversation the list does not show yet reloads the list's rows from the page itself. */
(function () {
  "use strict";
  var list = document.querySelector("[data-chat-list]");
  if (!list) return;

  function rows() { return Array.prototype.slice.call(list.querySelectorAll("[data-conversation]")); }
  function rowOf(id) { return list.querySelector('[data-conversation="' + Number(id) + '"]'); }

  function subscribe() {
    var since = {};
    rows().forEach(function (row) { since[row.getAttribute("data-conversation")] = parseInt(row.getAttribute("data-last-seq"), 10) || 0; });
    if (window.officeapp && window.officeapp.socket) {
      window.officeapp.socket.send({ type: "chat.subscribe", all: true, since: since });
    }
  }

  function lastText(row, frame) {
    if (frame.recalled) return "消息已撤回";
    if (frame.kind === "system") return frame.body;
    var who = frame.sender && !row.classList.contains("is-direct") ? frame.sender.name + "：" : "";
    if (frame.kind === "image") return who + "[图片]";
    if (frame.kind === "file") return who + "[文件] " + (frame.file ? frame.file.name : "");
    var body = frame.body.length > 60 ? frame.body.slice(0, 59) + "…" : frame.body;
    return who + body;
  }

  function badge(row, n) {
    var el = row.querySelector("[data-unread]");
    el.textContent = n > 0 ? (n > 99 ? "99+" : String(n)) : "";
  }

  function toTop(row) {
    if (row.getAttribute("data-pinned") === "1") { list.prepend(row); return; }
    var pinned = rows().filter(function (r) { return r !== row && r.getAttribute("data-pinned") === "1"; });
    if (pinned.length) pinned[pinned.length - 1].after(row); else list.prepend(row);
  }

  var reloading = false;
  function reloadRows() {
    if (reloading) return;
    reloading = true;
    fetch(location.pathname + location.search, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var fresh = doc.querySelector("[data-chat-list]");
      // No new subscription: "all" already covers every conversation of the user, this one included.
      if (fresh) list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.childNodes).map(function (n) { return document.importNode(n, true); }));
    }).finally(function () { reloading = false; });
  }

  function onMessage(frame, live) {
    var row = rowOf(frame.conversation);
    if (!row) { reloadRows(); return; }
    var held = parseInt(row.getAttribute("data-last-seq"), 10) || 0;
    if (frame.seq <= held && !frame.recalled) return; // seen already
    if (frame.seq > held) row.setAttribute("data-last-seq", String(frame.seq));
    row.querySelector("[data-last]").textContent = lastText(row, frame);
    if (frame.seq > held && !frame.recalled) {
      var mine = document.querySelector("[data-bell]");
      var me = mine ? parseInt(mine.getAttribute("data-user"), 10) : null;
      if (!frame.sender || frame.sender.id !== me) {
        var el = row.querySelector("[data-unread]");
        var n = parseInt(el.textContent, 10) || 0;
        badge(row, n + 1);
      }
      if (live) toTop(row);
    }
  }

  window.addEventListener("officeapp:socket.open", subscribe);
  window.addEventListener("officeapp:chat.message", function (e) { onMessage(e.detail.message, true); });
  window.addEventListener("officeapp:chat.recalled", function (e) {
    var row = rowOf(e.detail.conversation);
    if (row && String(e.detail.message.seq) === row.getAttribute("data-last-seq")) {
      row.querySelector("[data-last]").textContent = "消息已撤回";
    }
  });
  window.addEventListener("officeapp:chat.catchup", function (e) {
    // Catch-up also covers conversations beyond this page of the list: only the rows shown are updated.
    if (!rowOf(e.detail.conversation)) return;
    (e.detail.messages || []).forEach(function (f) { onMessage(f, true); });
  });
  window.addEventListener("officeapp:chat.read", function (e) {
    var row = rowOf(e.detail.conversation);
    var bell = document.querySelector("[data-bell]");
    if (row && bell && String(e.detail.user) === bell.getAttribute("data-user")) {
      var last = parseInt(row.getAttribute("data-last-seq"), 10) || 0;
      badge(row, Math.max(0, last - e.detail.seq));
    }
  });
  window.addEventListener("officeapp:chat.conversation", function (e) {
    var c = e.detail.conversation;
    if (c && !rowOf(c.id) && e.detail.event === "added") reloadRows();
    if (c && rowOf(c.id) && e.detail.event === "removed") rowOf(c.id).remove();
  });
  subscribe();
})();
