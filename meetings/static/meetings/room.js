/* The live meeting room (meetings/templates/meetings/room.html) over the shared socket
   (officeapp/static/officeapp/socket.js, window.officeapp.socket).

   - On every (re)open of the socket ("officeapp:socket.open") the page sends meeting.join; the
     server answers meeting.state with the whole room, so a page that lost its connection is
     current again at once. Frames of another meeting, and turns older than the state's version,
     are ignored.
   - The page shown follows the host: the current material page is drawn with the vendored pdf.js
     (documents/vendor/pdfjs) from the material's preview URL; when it cannot be drawn the
     "第 N 页" link opens the material.
   - User text (names, chat, vote titles) is only ever set with textContent. */
(function () {
  "use strict";
  var configNode = document.getElementById("room-config");
  var root = document.querySelector("[data-room]");
  if (!configNode || !root) return;
  var C = JSON.parse(configNode.textContent);
  var socket = window.officeapp && window.officeapp.socket;
  var $ = function (sel) { return root.querySelector(sel); };

  var version = -1;
  var presence = new Map();   // user id -> name
  var vote = null;
  var voted = false;
  var raised = false;
  var muted = false;
  var ended = false;
  var page = 1;
  var material = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function send(type, fields) {
    var frame = { type: type, meeting: C.meeting };
    Object.keys(fields || {}).forEach(function (k) { frame[k] = fields[k]; });
    if (socket) socket.send(frame);
  }
  function status(text) { $("[data-room-status]").textContent = text; }
  function showError(text) {
    var box = $("[data-room-error]");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(showError.timer);
    showError.timer = setTimeout(function () { box.hidden = true; }, 6000);
  }

  // --- presence -------------------------------------------------------------------------------
  function renderPresence() {
    var list = $("[data-room-presence]");
    list.textContent = "";
    presence.forEach(function (name, id) {
      var li = el("li", "", name);
      if (id === C.me) li.appendChild(el("span", "muted", "（我）"));
      if (C.host && id !== C.me) {
        var b = el("button", "small outline secondary", "移出");
        b.type = "button";
        b.addEventListener("click", function () {
          if (window.confirm("确定将 " + name + " 移出会议室？移出后不能再次进入。")) send("meeting.remove", { user: id });
        });
        li.appendChild(b);
      }
      list.appendChild(li);
    });
    $("[data-room-count]").textContent = "（" + presence.size + " 人在线）";
  }

  // --- agenda and material page ---------------------------------------------------------------
  var pdfjs = null;
  var docs = new Map(); // material id -> promise of pdf document
  function materialUrl(id) { return C.material_url ? C.material_url.replace("/0/", "/" + id + "/") : ""; }

  function loadPdf(id) {
    if (!docs.has(id)) {
      var node = document.getElementById("room-pdf");
      docs.set(id, import(node.dataset.pdfjs).then(function (lib) {
        pdfjs = lib;
        lib.GlobalWorkerOptions.workerSrc = node.dataset.worker;
        return lib.getDocument({ url: materialUrl(id), withCredentials: true, cMapUrl: node.dataset.cmaps,
          cMapPacked: true, isEvalSupported: false }).promise;
      }));
    }
    return docs.get(id);
  }

  function drawPage() {
    var canvas = $("[data-room-canvas]");
    if (!material || !C.material_url || !/\.pdf$/i.test(material.filename || "")) { canvas.hidden = true; return; }
    var wanted = { id: material.id, page: page };
    drawPage.wanted = wanted;
    loadPdf(material.id).then(function (pdf) {
      if (drawPage.wanted !== wanted) return null;
      return pdf.getPage(Math.min(wanted.page, pdf.numPages)).then(function (p) {
        var base = p.getViewport({ scale: 1 });
        var width = Math.max(canvas.parentNode.clientWidth, 200);
        var ratio = window.devicePixelRatio || 1;
        var viewport = p.getViewport({ scale: (width / base.width) * ratio });
        canvas.width = Math.floor(viewport.width);
        canvas.height = Math.floor(viewport.height);
        canvas.hidden = false;
        return p.render({ canvasContext: canvas.getContext("2d"), viewport: viewport }).promise;
      });
    }).catch(function () { canvas.hidden = true; });
  }

  function renderStage(agenda, mat, pageNo) {
    $("[data-room-agenda]").textContent = agenda ? agenda.order + ". " + agenda.title +
      (agenda.presenter ? "（汇报人：" + agenda.presenter + "）" : "") : "（主持人尚未选择议题）";
    material = mat;
    page = pageNo || 1;
    var box = $("[data-room-material]");
    box.hidden = !mat;
    if (mat) {
      $("[data-room-material-title]").textContent = mat.title;
      $("[data-room-page]").textContent = String(page);
      $("[data-room-pages]").textContent = mat.pages ? "共 " + mat.pages + " 页" : "";
      var link = $("[data-room-page-link]");
      var url = materialUrl(mat.id);
      if (url) link.href = url + "#page=" + page; else link.removeAttribute("href");
    }
    if (C.host) {
      $("[data-room-turn-agenda]").value = agenda ? String(agenda.id) : "";
      $("[data-room-turn-material]").value = mat ? String(mat.id) : "";
    }
    drawPage();
  }

  // --- hands ---------------------------------------------------------------------------------------
  function renderHands(hands) {
    var list = $("[data-room-hands]");
    list.textContent = "";
    raised = false;
    hands.forEach(function (h) {
      if (h.user === C.me) raised = true;
      var li = el("li", "room-hand is-" + h.state, h.name + (h.state === "allowed" ? "（发言中）" : "（举手中）"));
      if (C.host) {
        if (h.state === "waiting") {
          var yes = el("button", "small", "准许");
          yes.type = "button";
          yes.addEventListener("click", function () { send("meeting.hand.decide", { hand: h.id, allow: true }); });
          li.appendChild(yes);
        }
        var no = el("button", "small secondary outline", h.state === "waiting" ? "不准许" : "结束发言");
        no.type = "button";
        no.addEventListener("click", function () { send("meeting.hand.decide", { hand: h.id, allow: false }); });
        li.appendChild(no);
      }
      list.appendChild(li);
    });
    if (!hands.length) list.appendChild(el("li", "muted", "暂无举手"));
    var button = $("[data-room-hand]");
    button.textContent = raised ? "放下手" : "举手发言";
    button.setAttribute("aria-pressed", raised ? "true" : "false");
  }

  // --- votes ---------------------------------------------------------------------------------------
  var LABELS = { "for": "赞成", against: "反对", abstain: "弃权" };
  function renderVote() {
    var box = $("[data-room-vote]");
    box.textContent = "";
    var ballot = $("[data-room-ballot]");
    if (!vote) {
      box.appendChild(el("p", "muted", "暂无表决"));
      ballot.hidden = true;
    } else {
      var open = vote.status === "open";
      box.appendChild(el("p", "room-vote-title", vote.title + (vote.anonymous ? "（不记名）" : "（记名）")));
      box.appendChild(el("p", "room-vote-state", open ? "表决中" : "已结束：" + (vote.result || "")));
      var tally = el("ul", "room-tally");
      ["for", "against", "abstain"].forEach(function (k) {
        var n = vote.tally[k];
        tally.appendChild(el("li", "", LABELS[k] + " " + (n === null || n === undefined ? "—" : n)));
      });
      box.appendChild(tally);
      var electorate = vote.electorate ? " / 应表决 " + vote.electorate + " 人" : "";
      box.appendChild(el("p", "muted small", "已表决 " + vote.voted + " 人" + electorate +
        (open && vote.anonymous ? "（不记名表决结束后公布结果）" : "")));
      if (voted) box.appendChild(el("p", "room-voted", "您已投票"));
      ballot.hidden = !open || voted || ended;
    }
    if (C.host) {
      var closeBtn = $("[data-room-vote-close]");
      closeBtn.hidden = !(vote && vote.status === "open");
    }
  }

  // --- chat ------------------------------------------------------------------------------------------
  var shown = new Set();
  function addMessage(m) {
    if (shown.has(m.id)) return;
    shown.add(m.id);
    var li = el("li", "room-message" + (m.user === C.me ? " is-mine" : ""));
    var at = new Date(m.at);
    li.appendChild(el("span", "room-message-meta", m.name + " " +
      (isNaN(at.getTime()) ? "" : at.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit", hour12: false }))));
    li.appendChild(el("span", "room-message-body", m.body));
    var list = $("[data-room-messages]");
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  function setMuted(value) {
    muted = value;
    $("[data-room-muted]").hidden = !muted;
    if (C.host) $("[data-room-mute]").textContent = muted ? "取消全体静音" : "全体静音";
  }

  function setEnded() {
    ended = true;
    status("会议已结束");
    root.classList.add("is-ended");
    root.querySelectorAll("button, input, select").forEach(function (n) { n.disabled = true; });
  }

  // --- frames -----------------------------------------------------------------------------------------
  function mine(frame) { return frame && frame.meeting === C.meeting; }
  var handlers = {
    "meeting.state": function (f) {
      version = f.version;
      presence.clear();
      f.presence.forEach(function (p) { presence.set(p.user, p.name); });
      renderPresence();
      vote = f.vote;
      voted = !!f.me.voted;
      renderVote();
      renderHands(f.hands);
      setMuted(f.muted_all);
      renderStage(f.agenda_item, f.material, f.page);
      $("[data-room-messages]").textContent = "";
      shown.clear();
      f.chat.forEach(addMessage);
      status("已进入会议室");
      if (f.status === "ended") setEnded();
    },
    "meeting.presence": function (f) {
      if (f.event === "joined") presence.set(f.user, f.name); else presence.delete(f.user);
      renderPresence();
    },
    "meeting.turned": function (f) {
      if (f.version < version) return;
      version = f.version;
      renderStage(f.agenda_item, f.material, f.page);
    },
    "meeting.hands": function (f) { renderHands(f.hands); },
    "meeting.muted": function (f) { setMuted(f.muted); },
    "meeting.chat": function (f) { addMessage(f.message); },
    "meeting.vote": function (f) {
      // Two ballots committed at once may be pushed in either order: never step the count back.
      if (vote && vote.id === f.vote.id && vote.status === f.vote.status && f.vote.voted < vote.voted) return;
      if (vote && vote.id === f.vote.id && vote.status === "closed" && f.vote.status === "open") return;
      if (!vote || vote.id !== f.vote.id) voted = false;
      vote = f.vote;
      renderVote();
    },
    "meeting.ended": function () { setEnded(); },
    "meeting.removed": function () {
      status("您已被主持人移出会议室");
      setEnded();
      status("您已被主持人移出会议室");
    },
  };
  Object.keys(handlers).forEach(function (type) {
    window.addEventListener("officeapp:" + type, function (e) { if (mine(e.detail)) handlers[type](e.detail); });
  });
  window.addEventListener("officeapp:error", function (e) {
    var f = e.detail || {};
    if (f.meeting !== undefined && f.meeting !== C.meeting) return;
    if (f.request === "meeting.vote.cast" && f.message === "您已投票。") { voted = true; renderVote(); }
    if (f.request === "meeting.join" || (f.request === undefined && version < 0)) status(f.message);
    showError(f.message);
  });

  function join() { if (!ended) send("meeting.join"); }
  window.addEventListener("officeapp:socket.open", join);
  window.addEventListener("officeapp:socket.close", function () { if (!ended) status("连接已断开，正在重新连接…"); });
  join(); // queued by socket.js until its socket is open; a join that arrives twice is harmless

  // --- controls ---------------------------------------------------------------------------------------
  $("[data-room-hand]").addEventListener("click", function () { send("meeting.hand", { raised: !raised }); });
  root.querySelectorAll("[data-choice]").forEach(function (b) {
    b.addEventListener("click", function () {
      if (!vote) return;
      voted = true; // shown at once; a refusal other than "already voted" undoes it
      send("meeting.vote.cast", { vote: vote.id, choice: b.getAttribute("data-choice") });
      renderVote();
    });
  });
  window.addEventListener("officeapp:error", function (e) {
    var f = e.detail || {};
    if (f.request === "meeting.vote.cast" && f.message !== "您已投票。") { voted = false; renderVote(); }
  });
  $("[data-room-chat]").addEventListener("submit", function (e) {
    e.preventDefault();
    var input = $("[data-room-chat-input]");
    var body = input.value.trim();
    if (!body) { showError("消息不能为空。"); return; }
    if (body.length > C.chat_max) { showError("消息过长：最多 " + C.chat_max + " 个字。"); return; }
    send("meeting.chat", { body: body, client_id: (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) });
    input.value = "";
  });

  if (C.host) {
    $("[data-room-turn-agenda]").addEventListener("change", function (e) {
      var v = e.target.value;
      send("meeting.turn", { agenda_item: v ? Number(v) : null });
    });
    $("[data-room-turn-material]").addEventListener("change", function (e) {
      var v = e.target.value;
      send("meeting.turn", { material: v ? Number(v) : null });
    });
    $("[data-room-prev]").addEventListener("click", function () { if (page > 1) send("meeting.turn", { page: page - 1 }); });
    $("[data-room-next]").addEventListener("click", function () {
      if (!material || !material.pages || page < material.pages) send("meeting.turn", { page: page + 1 });
    });
    $("[data-room-mute]").addEventListener("click", function () { send("meeting.mute_all", { muted: !muted }); });
    $("[data-room-end]").addEventListener("click", function () {
      if (window.confirm("确定结束会议？结束后所有人将离开会议室，进行中的表决也将结束。")) send("meeting.end");
    });
    $("[data-room-vote-open]").addEventListener("submit", function (e) {
      e.preventDefault();
      var title = $("[data-room-vote-title]").value.trim();
      if (!title) { showError("请填写表决事项。"); return; }
      send("meeting.vote.open", { title: title, anonymous: $("[data-room-vote-anonymous]").checked });
      $("[data-room-vote-title]").value = "";
    });
    $("[data-room-vote-close]").addEventListener("click", function () {
      if (vote) send("meeting.vote.close", { vote: vote.id });
    });
  }
})();
