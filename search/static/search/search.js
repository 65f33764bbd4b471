/* The shell's search box (base.html, every signed-in page): as one types, titles one may open come
   from search:suggest (debounced; an older answer never overwrites a newer one); ↑/↓ choose, Enter
   opens the chosen title (or searches when none is chosen), Esc closes the list. Titles are set with
   textContent: nothing from the index is parsed as HTML. */
(function () {
  "use strict";
  var form = document.querySelector("[data-shell-search]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var list = form.querySelector("[data-shell-suggest]");
  var url = form.getAttribute("data-suggest-url");
  var timer = null;
  var asked = 0;
  var chosen = -1;

  function links() { return list.querySelectorAll("a"); }

  function close() {
    list.hidden = true;
    list.textContent = "";
    chosen = -1;
    input.setAttribute("aria-expanded", "false");
  }

  function mark(index) {
    var all = links();
    chosen = index;
    for (var i = 0; i < all.length; i++) {
      all[i].setAttribute("aria-selected", i === index ? "true" : "false");
    }
    if (index >= 0 && all[index]) { input.setAttribute("aria-activedescendant", all[index].id); }
    else { input.removeAttribute("aria-activedescendant"); }
  }

  function show(items) {
    list.textContent = "";
    chosen = -1;
    if (!items.length) { close(); return; }
    items.forEach(function (item, i) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = item.url;
      a.id = "shell-suggest-" + i;
      a.setAttribute("role", "option");
      var badge = document.createElement("span");
      badge.className = "sr-kind sr-kind-" + item.kind;
      badge.textContent = item.kind_label;
      a.appendChild(badge);
      a.appendChild(document.createTextNode(item.title));
      li.appendChild(a);
      list.appendChild(li);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function ask() {
    var text = input.value.trim();
    var ticket = ++asked;
    if (text.length < 2) { close(); return; }
    fetch(url + "?q=" + encodeURIComponent(text), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (data) { if (ticket === asked) show(data.suggestions || []); })
      .catch(function () { /* suggestions are a convenience: the next keystroke tries again */ });
  }

  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 200); });
  input.addEventListener("keydown", function (e) {
    var all = links();
    if (e.key === "ArrowDown" && all.length) { e.preventDefault(); mark((chosen + 1) % all.length); }
    else if (e.key === "ArrowUp" && all.length) { e.preventDefault(); mark(chosen <= 0 ? all.length - 1 : chosen - 1); }
    else if (e.key === "Escape") { close(); }
    else if (e.key === "Enter" && chosen >= 0 && all[chosen]) { e.preventDefault(); window.location.href = all[chosen].href; }
  });
  input.addEventListener("blur", function () { setTimeout(close, 150); });
  document.addEventListener("keydown", function (e) {
    // "/" focuses the box, as on most search sites, unless one is typing somewhere.
    var t = e.target && e.target.tagName;
    if (e.key === "/" && t !== "INPUT" && t !== "TEXTAREA" && !(e.target && e.target.isContentEditable)) {
      e.preventDefault();
      input.focus();
    }
  });
})();
