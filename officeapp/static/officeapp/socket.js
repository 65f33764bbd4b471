/* The one websocket per tab (/ws/): reconnects with backoff, catches up with "hello", and turns every
   frame into a DOM event `officeapp:<type>` on window so any app can listen:

     window.addEventListener("officeapp:notification", (e) => console.log(e.detail));
     window.officeapp.socket.send({type: "meeting.subscribe", id: 12});

   Notifications are de-duplicated by id (the server may push one twice: in-process and via the relay). */
(function () {
  "use strict";
  var bell = document.querySelector("[data-bell]");
  var userId = bell ? bell.getAttribute("data-user") : "";
  var storageKey = "officeapp.lastNotificationId." + userId;
  var ws = null;
  var attempt = 0;
  var stopped = false;
  var queue = [];
  var seen = new Set();
  var pingTimer = null;

  function lastId() {
    try {
      var v = parseInt(window.localStorage.getItem(storageKey) || "", 10);
      return isNaN(v) ? null : v;
    } catch (e) { return null; }
  }
  function rememberId(id) {
    var current = lastId();
    if (current === null || id > current) {
      try { window.localStorage.setItem(storageKey, String(id)); } catch (e) { /* private mode */ }
    }
  }

  function setBell(text) {
    document.querySelectorAll("[data-bell-count]").forEach(function (el) {
      el.textContent = text && text !== "0" ? String(text) : "";
    });
  }
  function bumpBell() {
    var el = document.querySelector("[data-bell-count]");
    var text = el ? el.textContent.trim() : "";
    if (text.slice(-1) === "+") return;
    var n = parseInt(text || "0", 10) || 0;
    setBell(n + 1 >= 100 ? "99+" : String(n + 1));
  }
  function unreadLabel(n) { return n >= 100 ? "99+" : String(n); }

  var toastBox = null;
  function toast(frame) {
    if (!toastBox) {
      toastBox = document.createElement("div");
      toastBox.setAttribute("role", "status");
      toastBox.setAttribute("aria-live", "polite");
      toastBox.className = "officeapp-toasts";
      toastBox.style.cssText = "position:fixed;right:.75rem;bottom:.75rem;z-index:1000;display:flex;" +
        "flex-direction:column;gap:.5rem;max-width:calc(100vw - 1.5rem);width:20rem;";
      document.body.appendChild(toastBox);
    }
    var item = document.createElement(frame.url ? "a" : "div");
    if (frame.url && frame.url.charAt(0) === "/" && frame.url.charAt(1) !== "/") item.href = frame.url;
    item.className = "officeapp-toast" + (frame.urgency === "urgent" ? " is-urgent" : "");
    item.style.cssText = "display:block;padding:.6rem .8rem;border-radius:.4rem;background:#1f2937;color:#fff;" +
      "box-shadow:0 2px 8px rgba(0,0,0,.25);overflow-wrap:anywhere;text-decoration:none;" +
      (frame.urgency === "urgent" ? "border-left:4px solid #d93025;" : "");
    var title = document.createElement("strong");
    title.textContent = (frame.urgency === "urgent" ? "【紧急】" : "") + frame.title;
    item.appendChild(title);
    if (frame.body) {
      var body = document.createElement("div");
      body.style.fontSize = ".85rem";
      body.textContent = frame.body;
      item.appendChild(body);
    }
    toastBox.appendChild(item);
    setTimeout(function () { item.remove(); }, frame.urgency === "urgent" ? 15000 : 6000);
  }

  function dispatch(type, detail) {
    window.dispatchEvent(new CustomEvent("officeapp:" + type, { detail: detail }));
  }

  function onNotification(frame, live) {
    if (typeof frame.id !== "number" || seen.has(frame.id)) return;
    seen.add(frame.id);
    rememberId(frame.id);
    dispatch("notification", frame);
    if (live) {
      if (!frame.read) bumpBell();
      toast(frame);
      var banner = document.querySelector("[data-notify-live]");
      if (banner) banner.hidden = false;
    }
  }

  function onFrame(frame) {
    if (!frame || typeof frame.type !== "string") return;
    if (frame.type === "notification") { onNotification(frame, true); return; }
    if (frame.type === "hello") {
      (frame.notifications || []).forEach(function (n) { onNotification(n, false); });
      if (typeof frame.last_id === "number") rememberId(frame.last_id);
      if (typeof frame.unread === "number") setBell(unreadLabel(frame.unread));
      if (frame.more) send({ type: "hello", last_notification_id: lastId() });
    } else if (frame.type === "notifications.read" && typeof frame.unread === "number") {
      setBell(unreadLabel(frame.unread));
    }
    dispatch(frame.type, frame);
  }

  function send(obj) {
    var text = JSON.stringify(obj);
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(text);
    else if (queue.length < 100) queue.push(text);
  }

  function connect() {
    if (stopped) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/";
    ws = new WebSocket(url);
    ws.onopen = function () {
      attempt = 0;
      ws.send(JSON.stringify({ type: "hello", last_notification_id: lastId() }));
      while (queue.length) ws.send(queue.shift());
      dispatch("socket.open", {});
      clearInterval(pingTimer);
      // Keeps proxies from closing an idle socket.
      pingTimer = setInterval(function () { send({ type: "ping" }); }, 30000);
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    ws.onclose = function (event) {
      clearInterval(pingTimer);
      dispatch("socket.close", { code: event.code });
      if (event.code === 4401) { stopped = true; return; } // signed out: a reload leads to the sign-in page
      attempt += 1;
      // 1 s, 2 s, 4 s … capped at 30 s, with jitter so a restarted server is not hit by everyone at once.
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt - 1)) * (0.5 + Math.random() / 2);
      setTimeout(connect, delay);
    };
  }

  window.officeapp = window.officeapp || {};
  window.officeapp.socket = { send: send };
  if ("WebSocket" in window && bell) connect();
})();
