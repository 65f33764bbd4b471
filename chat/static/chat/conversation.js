/* The conversation page (chat/templates/chat/conversation.html).

   - History: the page starts with the newest page (in #chat-state); scrolling up loads
     ?before=<first seq>; the whole conversation is never loaded.
   - Live: over the one socket (officeapp/socket.js). On every (re)open of the socket the page sends
     chat.subscribe with the last seq it holds without a gap, and the server answers chat.catchup with
     what was missed, in order ("more": ask again). Every message is keyed by seq, so one that arrives
     twice (catch-up and live) is shown once.
   - Sending: a POST with a client_id (crypto.randomUUID). No answer (timeout, network) → the same
     payload is sent again with the same client_id, so the server returns the stored message instead
     of a second one. A refusal (4xx) is shown in Chinese and not retried.
   - User text is only ever set with textContent: no HTML from a message is ever parsed. */
(function () {
  "use strict";
  var stateNode = document.getElementById("chat-state");
  if (!stateNode) return;
  var S = JSON.parse(stateNode.textContent);
  var room = document.querySelector("[data-chat-room]");
  var box = room.querySelector("[data-chat-messages]");
  var list = room.querySelector("[data-chat-list]");
  var moreHint = room.querySelector("[data-chat-more]");
  var typingLine = room.querySelector("[data-chat-typing]");
  var composer = room.querySelector("[data-chat-composer]");
  var input = room.querySelector("[data-chat-input]");
  var errorLine = room.querySelector("[data-chat-error]");
  var template = document.getElementById("chat-message-template");
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";

  var SEND_TIMEOUT_MS = 10000;
  var SEND_RETRIES = 5;
  var frames = new Map();      // seq -> frame
  var nodes = new Map();       // seq -> <li>
  var pending = new Map();     // client_id -> {node, payload}
  var members = new Map();     // user id -> {id, name, joined_seq, last_read_seq, admin}
  S.members.forEach(function (m) { members.set(m.id, m); });
  var heldSeq = S.held_seq || 0;  // every message up to here (from the first loaded) is on the page
  var firstSeq = null;
  var more = S.more;
  var loadingOlder = false;
  var replyTo = null;
  var mentioned = new Map();   // "@name" -> user id, chosen in the picker
  var mentionAll = false;
  var readSent = S.last_read_seq || 0;

  // --- rendering ------------------------------------------------------------------------------

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function timeText(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return "";
    var now = new Date();
    var hm = d.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false });
    if (d.toDateString() === now.toDateString()) return hm;
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + hm;
  }

  function sizeText(n) {
    if (typeof n !== "number") return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return Math.round(n / 1024) + " KB";
    return (n / 1024 / 1024).toFixed(1) + " MB";
  }

  function isOwn(frame) { return frame.sender && frame.sender.id === S.me; }

  // Paths from the server are our own (/chat/m/<id>/…); anything else is not used as a link.
  function safePath(url) { return typeof url === "string" && /^\/chat\/m\/\d+\/(file|thumbnail)\/$/.test(url) ? url : null; }

  function urlFor(name, id) { return S.urls[name].replace("/0/", "/" + id + "/"); }

  function unreadOf(frame) {
    var count = 0;
    members.forEach(function (m) {
      if (m.id !== frame.sender.id && m.joined_seq < frame.seq && m.last_read_seq < frame.seq) count += 1;
    });
    return count;
  }

  function renderStatus(node, frame) {
    var status = node.querySelector(".chat-status");
    status.textContent = "";
    if (!isOwn(frame) || frame.recalled || frame.kind === "system") return;
    if (S.kind === "direct") {
      var read = false;
      members.forEach(function (m) { if (m.id !== S.me && m.last_read_seq >= frame.seq) read = true; });
      status.appendChild(el("span", read ? "chat-read is-read" : "chat-read", read ? "已读" : "未读"));
      return;
    }
    var n = unreadOf(frame);
    var link = el("a", "chat-read" + (n ? "" : " is-read"), n ? n + "人未读" : "全部已读");
    link.href = urlFor("receipts", frame.id);
    status.appendChild(link);
  }

  function canRecall(frame) {
    if (!S.can_send || frame.recalled || frame.kind === "system" || !frame.sender) return false;
    if (S.is_admin) return true;
    return isOwn(frame) && Date.now() - new Date(frame.created_at).getTime() <= S.recall_window_seconds * 1000;
  }

  function renderActions(node, frame) {
    var actions = node.querySelector(".chat-actions");
    actions.textContent = "";
    if (frame.kind === "system" || frame.recalled || !S.can_send) return;
    var reply = el("button", "link", "回复");
    reply.type = "button";
    reply.addEventListener("click", function () { startReply(frame); });
    actions.appendChild(reply);
    var fwd = el("a", "", "转发");
    fwd.href = urlFor("forward", frame.id);
    actions.appendChild(fwd);
    if (canRecall(frame)) {
      var recall = el("button", "link", "撤回");
      recall.type = "button";
      recall.setAttribute("data-recall", String(frame.id));
      recall.addEventListener("click", function () { recallMessage(frame); });
      actions.appendChild(recall);
    }
  }

  function render(frame) {
    var node;
    if (frame.kind === "system") {
      node = el("li", "chat-system", frame.body);
    } else {
      node = template.content.firstElementChild.cloneNode(true);
      if (isOwn(frame)) node.classList.add("is-own");
      node.querySelector(".chat-sender").textContent = frame.sender
        ? frame.sender.name + (frame.sender.agency ? "（" + frame.sender.agency + "）" : "") : "";
      node.querySelector(".chat-time").textContent = timeText(frame.created_at);
      node.querySelector(".chat-time").setAttribute("datetime", frame.created_at || "");
      var text = node.querySelector(".chat-text");
      if (frame.recalled) {
        node.classList.add("is-recalled");
        text.textContent = frame.recalled_by_admin ? "消息已撤回（管理员）" : "消息已撤回";
      } else {
        if (frame.reply_to) {
          var quote = node.querySelector(".chat-quote");
          quote.hidden = false;
          var quoted = frame.reply_to;
          if (quoted.hidden) {
            // The server left the text out because someone in the group joined after it was sent;
            // this page may hold it itself (a member since before), otherwise it stays unnamed.
            var own = frames.get(quoted.seq);
            quote.textContent = own && !own.recalled && own.sender
              ? "引用 " + own.sender.name + "：" + (own.body || (own.file && own.file.name) || "").slice(0, 60)
              : "引用：一条在您加入前发送的消息";
          } else {
            quote.textContent = "引用 " + quoted.sender_name + "：" + (quoted.excerpt || "消息已撤回");
          }
        }
        if (frame.forwarded) {
          var fwd = node.querySelector(".chat-forwarded");
          fwd.hidden = false;
          fwd.textContent = "转发自 " + frame.forwarded.sender_name +
            (frame.forwarded.conversation_name ? "（" + frame.forwarded.conversation_name + "）" : "");
        }
        text.textContent = frame.body;
        if (frame.mention_all || (frame.mentions || []).indexOf(S.me) >= 0) node.classList.add("mentions-me");
        if (frame.file) {
          var holder = node.querySelector(".chat-file");
          holder.hidden = false;
          var href = safePath(frame.file.url);
          var thumb = safePath(frame.file.thumbnail_url);
          var link = el("a", "chat-file-link");
          if (href) link.href = href;
          if (thumb) {
            var img = document.createElement("img");
            img.src = thumb;
            img.alt = frame.file.name;
            img.loading = "lazy";
            link.appendChild(img);
          } else {
            link.textContent = "📎 " + frame.file.name + "（" + sizeText(frame.file.size) + "）";
          }
          holder.appendChild(link);
        }
      }
      renderStatus(node, frame);
      renderActions(node, frame);
    }
    node.id = "m" + frame.seq;
    node.setAttribute("data-seq", String(frame.seq));
    return node;
  }

  function nearBottom() { return box.scrollHeight - box.scrollTop - box.clientHeight < 120; }

  function place(node, seq) {
    // Messages are kept in seq order whatever order they arrive in.
    var after = null;
    var children = list.children;
    for (var i = children.length - 1; i >= 0; i -= 1) {
      var s = parseInt(children[i].getAttribute("data-seq") || "", 10);
      if (!isNaN(s) && s < seq) { after = children[i]; break; }
      if (isNaN(s) && !after) continue;
    }
    if (after) after.after(node);
    else list.prepend(node);
  }

  function add(frame, opts) {
    if (!frame || typeof frame.seq !== "number" || frame.conversation !== S.conversation) return;
    if (frame.client_id && pending.has(frame.client_id) && isOwn(frame)) {
      pending.get(frame.client_id).node.remove();
      pending.delete(frame.client_id);
    }
    var existing = nodes.get(frame.seq);
    if (existing) {
      // The same seq again: only a recall (or a later state of it) changes what is shown.
      if (frame.recalled && !frames.get(frame.seq).recalled) replace(frame);
      return;
    }
    var stick = nearBottom();
    frames.set(frame.seq, frame);
    var node = render(frame);
    nodes.set(frame.seq, node);
    place(node, frame.seq);
    if (firstSeq === null || frame.seq < firstSeq) firstSeq = frame.seq;
    while (frames.has(heldSeq + 1)) heldSeq += 1;
    if (frame.seq > heldSeq + 1 && !(opts && opts.history)) subscribe(); // a gap: ask for what is missing
    if (frame.kind === "system" && frame.data && frame.data.event === "notice" && !(opts && opts.history)) {
      updateNotice(typeof frame.data.notice === "string" ? frame.data.notice : "群公告已更新，刷新页面查看。");
    }
    if (!(opts && opts.history) && (stick || isOwn(frame))) box.scrollTop = box.scrollHeight;
  }

  function replace(frame) {
    frames.set(frame.seq, frame);
    var old = nodes.get(frame.seq);
    var node = render(frame);
    nodes.set(frame.seq, node);
    if (old) old.replaceWith(node); else place(node, frame.seq);
  }

  function refreshStatuses() {
    frames.forEach(function (frame, seq) {
      if (isOwn(frame) && !frame.recalled) renderStatus(nodes.get(seq), frame);
    });
  }

  function updateNotice(text) {
    var banner = room.querySelector("[data-chat-notice]");
    if (!banner) {
      banner = el("aside", "chat-notice");
      banner.setAttribute("data-chat-notice", "");
      banner.appendChild(el("strong", "", "群公告"));
      banner.appendChild(document.createTextNode(" "));
      banner.appendChild(el("span"));
      box.before(banner);
    }
    banner.hidden = !text;
    banner.querySelector("span").textContent = text;
  }

  // --- history --------------------------------------------------------------------------------

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(String(r.status));
      return r.json();
    });
  }

  function loadOlder() {
    if (!more || loadingOlder || firstSeq === null) return;
    loadingOlder = true;
    var before = box.scrollHeight;
    getJSON(S.urls.messages + "?before=" + firstSeq).then(function (data) {
      data.messages.forEach(function (f) { add(f, { history: true }); });
      more = data.more;
      moreHint.hidden = !more;
      box.scrollTop += box.scrollHeight - before;
    }).catch(function () { /* the next scroll tries again */ }).finally(function () { loadingOlder = false; });
  }
  box.addEventListener("scroll", function () { if (box.scrollTop < 80) loadOlder(); });

  // --- live -----------------------------------------------------------------------------------

  function socket() { return window.officeapp && window.officeapp.socket; }

  function subscribe() {
    var conversations = {};
    conversations[String(S.conversation)] = heldSeq;
    if (socket()) socket().send({ type: "chat.subscribe", conversations: conversations });
  }

  function mine(e) { return e.detail && e.detail.conversation === S.conversation; }

  window.addEventListener("officeapp:socket.open", subscribe);
  window.addEventListener("officeapp:chat.message", function (e) {
    if (!mine(e)) return;
    add(e.detail.message);
    markRead();
  });
  window.addEventListener("officeapp:chat.recalled", function (e) {
    if (!mine(e)) return;
    var frame = e.detail.message;
    if (nodes.has(frame.seq)) replace(frame); else add(frame);
  });
  window.addEventListener("officeapp:chat.catchup", function (e) {
    if (!mine(e)) return;
    (e.detail.messages || []).forEach(function (f) { add(f); });
    if (e.detail.more) subscribe();
    markRead();
  });
  window.addEventListener("officeapp:chat.read", function (e) {
    if (!mine(e)) return;
    var m = members.get(e.detail.user);
    if (m && e.detail.seq > m.last_read_seq) { m.last_read_seq = e.detail.seq; refreshStatuses(); }
  });
  var typingTimer = null;
  window.addEventListener("officeapp:chat.typing", function (e) {
    if (!mine(e) || e.detail.user === S.me) return;
    typingLine.textContent = (e.detail.name || "对方") + " 正在输入…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typingLine.textContent = ""; }, 4000);
  });
  function closeRoom(text) {
    S.can_send = false;
    if (composer) composer.hidden = true;
    var note = el("p", "chat-closed", text);
    box.before(note);
  }
  window.addEventListener("officeapp:chat.conversation", function (e) {
    var c = e.detail.conversation;
    if (!c || c.id !== S.conversation) return;
    if (e.detail.event === "removed") closeRoom("您已不在该会话中。");
    if (e.detail.event === "dissolved") closeRoom("该群已解散，只能查看历史消息。");
  });
  window.addEventListener("officeapp:error", function (e) {
    if (mine(e)) closeRoom("您已不在该会话中。");
  });

  // --- read state -----------------------------------------------------------------------------

  var readTimer = null;
  function markRead() {
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      if (document.visibilityState !== "visible" || heldSeq <= readSent) return;
      var seq = heldSeq;
      post(S.urls.read, { seq: seq }).then(function (r) { if (r.ok) readSent = Math.max(readSent, seq); });
    }, 300);
  }
  document.addEventListener("visibilitychange", markRead);

  // --- sending --------------------------------------------------------------------------------

  function post(url, payload, signal) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(payload),
      signal: signal,
    });
  }

  function showError(text) {
    if (!errorLine) return;
    errorLine.textContent = text || "";
    errorLine.hidden = !text;
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function pendingNode(body) {
    var node = template.content.firstElementChild.cloneNode(true);
    node.classList.add("is-own", "is-pending");
    node.querySelector(".chat-text").textContent = body;
    node.querySelector(".chat-status").textContent = "发送中…";
    list.appendChild(node);
    box.scrollTop = box.scrollHeight;
    return node;
  }

  function attempt(clientId, tries) {
    var entry = pending.get(clientId);
    if (!entry) return; // already shown from the socket
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, SEND_TIMEOUT_MS);
    post(S.urls.messages, entry.payload, controller.signal).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { r: r, data: data }; });
    }).then(function (res) {
      clearTimeout(timer);
      if (res.r.ok && res.data.message) { add(res.data.message); markRead(); return; }
      if (res.r.status >= 500) { retry(clientId, tries); return; }
      // Refused: nothing was stored. Say why and give the text back for editing.
      entry.node.remove();
      pending.delete(clientId);
      showError(res.data.error || "发送失败。");
      if (input && !input.value) input.value = entry.payload.body;
    }).catch(function () { clearTimeout(timer); retry(clientId, tries); });
  }

  function retry(clientId, tries) {
    var entry = pending.get(clientId);
    if (!entry) return;
    if (tries + 1 >= SEND_RETRIES) {
      var status = entry.node.querySelector(".chat-status");
      status.textContent = "发送失败 ";
      var again = el("button", "link", "重发");
      again.type = "button";
      again.addEventListener("click", function () { status.textContent = "发送中…"; attempt(clientId, 0); });
      status.appendChild(again);
      return;
    }
    entry.node.querySelector(".chat-status").textContent = "网络不稳定，正在重试…";
    setTimeout(function () { attempt(clientId, tries + 1); }, Math.min(8000, 1000 * Math.pow(2, tries)));
  }

  function sendText() {
    var body = input.value;
    if (!body.trim()) { showError("不能发送空消息。"); return; }
    showError("");
    var ids = [];
    mentioned.forEach(function (id, label) { if (body.indexOf(label) >= 0 && ids.indexOf(id) < 0) ids.push(id); });
    var clientId = newClientId();
    var payload = {
      body: body,
      client_id: clientId,
      reply_to: replyTo ? replyTo.id : null,
      mentions: ids,
      mention_all: mentionAll && body.indexOf("@所有人") >= 0,
    };
    pending.set(clientId, { node: pendingNode(body), payload: payload });
    input.value = "";
    mentioned.clear();
    mentionAll = false;
    cancelReply();
    attempt(clientId, 0);
  }

  if (composer) {
    composer.addEventListener("submit", function (e) { e.preventDefault(); sendText(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && pickerHidden()) { e.preventDefault(); sendText(); }
    });
  }

  // --- reply, recall --------------------------------------------------------------------------

  var replyBar = room.querySelector("[data-chat-reply]");
  function startReply(frame) {
    if (!replyBar) return;
    replyTo = frame;
    replyBar.hidden = false;
    replyBar.querySelector("[data-chat-reply-text]").textContent =
      "引用 " + (frame.sender ? frame.sender.name : "") + "：" + (frame.body || (frame.file ? frame.file.name : "")).slice(0, 60);
    input.focus();
  }
  function cancelReply() {
    replyTo = null;
    if (replyBar) replyBar.hidden = true;
  }
  if (replyBar) replyBar.querySelector("[data-chat-reply-cancel]").addEventListener("click", cancelReply);

  function recallMessage(frame) {
    if (!window.confirm("撤回这条消息？撤回后所有人都将看到“消息已撤回”。")) return;
    post(urlFor("recall", frame.id), {}).then(function (r) {
      return r.json().then(function (data) {
        if (r.ok && data.message) replace(data.message);
        else showError(data.error || "撤回失败。");
      });
    }).catch(function () { showError("网络不稳定，撤回未完成，请重试。"); });
  }

  // --- @mentions ------------------------------------------------------------------------------

  var picker = room.querySelector("[data-chat-mentions]");
  function pickerHidden() { return !picker || picker.hidden; }
  function mentionQuery() {
    var before = input.value.slice(0, input.selectionStart);
    var match = /@([^\s@]{0,20})$/.exec(before);
    return match ? match[1] : null;
  }
  function choose(label, id) {
    var q = mentionQuery();
    var start = input.selectionStart - (q === null ? 0 : q.length + 1);
    input.value = input.value.slice(0, start) + "@" + label + " " + input.value.slice(input.selectionStart);
    if (id === null) mentionAll = true; else mentioned.set("@" + label, id);
    picker.hidden = true;
    input.focus();
  }
  function showPicker() {
    var q = mentionQuery();
    if (q === null || S.kind === "direct") { picker.hidden = true; return; }
    picker.textContent = "";
    var options = [];
    if (S.can_mention_all && "所有人".indexOf(q) >= 0) options.push({ label: "所有人", id: null });
    members.forEach(function (m) {
      if (m.id !== S.me && m.name.indexOf(q) >= 0 && options.length < 12) options.push({ label: m.name, id: m.id });
    });
    options.forEach(function (o) {
      var item = el("li", "", "@" + o.label);
      item.setAttribute("role", "option");
      item.tabIndex = 0;
      item.addEventListener("mousedown", function (e) { e.preventDefault(); choose(o.label, o.id); });
      item.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); choose(o.label, o.id); } });
      picker.appendChild(item);
    });
    picker.hidden = options.length === 0;
  }

  var typingSent = 0;
  if (input) {
    input.addEventListener("input", function () {
      if (picker) showPicker();
      if (Date.now() - typingSent > 3000 && input.value) {
        typingSent = Date.now();
        if (socket()) socket().send({ type: "chat.typing", conversation: S.conversation });
      }
    });
    input.addEventListener("blur", function () { if (picker) setTimeout(function () { picker.hidden = true; }, 150); });
  }

  // --- files ----------------------------------------------------------------------------------

  var fileInput = room.querySelector("[data-chat-file]");
  var uploadBox = room.querySelector("[data-chat-upload]");
  if (fileInput) {
    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) return;
      showError("");
      var clientId = newClientId();
      var data = new FormData();
      data.append("file", file);
      data.append("client_id", clientId);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", S.urls.upload);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      uploadBox.hidden = false;
      uploadBox.querySelector("[data-chat-upload-name]").textContent = file.name;
      var bar = uploadBox.querySelector("[data-chat-progress]");
      bar.value = 0;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", function () {
        uploadBox.hidden = true;
        fileInput.value = "";
        var answer = {};
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = {}; }
        if (xhr.status === 200 && answer.message) { add(answer.message); markRead(); }
        else showError(answer.error || "文件未能发送，请重试。");
      });
      xhr.addEventListener("error", function () {
        uploadBox.hidden = true;
        fileInput.value = "";
        showError("网络不稳定，文件未能发送，请重试。");
      });
      xhr.send(data);
    });
  }

  // --- start ----------------------------------------------------------------------------------

  S.messages.forEach(function (f) { add(f, { history: true }); });
  if (S.messages.length) heldSeq = Math.max(heldSeq, S.messages[S.messages.length - 1].seq);
  moreHint.hidden = !more;
  box.scrollTop = box.scrollHeight;
  subscribe();
  markRead();
  // Recall menus expire with the window: redraw them once a minute.
  setInterval(function () { frames.forEach(function (f, seq) { if (isOwn(f)) renderActions(nodes.get(seq), f); }); }, 60000);
  window.officeapp = window.officeapp || {};
  window.officeapp.chatRoom = { heldSeq: function () { return heldSeq; }, pending: function () { return pending.size; } };
})();
