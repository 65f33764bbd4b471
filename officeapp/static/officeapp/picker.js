/* Picking people of any agency from the 通讯录 (org/_people_picker.html: a new chat group, added
   members, a meeting's invitees): typing searches org:people_lookup and lists the people found;
   ticking one moves them to the chosen list (checkboxes "members" that the form posts). Names are
   set with textContent. */
(function () {
  "use strict";
  var picker = document.querySelector("[data-people-picker]");
  if (!picker) return;
  var url = picker.getAttribute("data-people-url");
  var q = picker.querySelector("[data-people-picker-q]");
  var found = picker.querySelector("[data-people-found]");
  var chosen = picker.querySelector("[data-people-chosen]");
  var timer = null;
  var asked = 0;

  function chosenIds() {
    return Array.prototype.map.call(chosen.querySelectorAll("input[name=members]"), function (i) { return i.value; });
  }

  function line(person, checked) {
    var li = document.createElement("li");
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "members";
    box.value = String(person.id);
    box.checked = checked;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + person.name + " "));
    var where = document.createElement("span");
    where.className = "muted";
    where.textContent = [person.agency, person.department].filter(Boolean).join(" · ");
    label.appendChild(where);
    li.appendChild(label);
    return { li: li, box: box };
  }

  function show(people) {
    found.textContent = "";
    var have = chosenIds();
    people.filter(function (p) { return have.indexOf(String(p.id)) < 0; }).forEach(function (p) {
      var row = line(p, false);
      row.box.addEventListener("change", function () {
        if (!row.box.checked) return;
        row.li.remove();
        chosen.appendChild(line(p, true).li);
      });
      found.appendChild(row.li);
    });
    if (!people.length && q.value.trim()) {
      var none = document.createElement("li");
      none.className = "muted";
      none.textContent = "通讯录中没有找到“" + q.value.trim() + "”。";
      found.appendChild(none);
    }
  }

  function search() {
    var text = q.value.trim();
    var ticket = ++asked;
    if (!text) { found.textContent = ""; return; }
    fetch(url + "?q=" + encodeURIComponent(text), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (ticket === asked) show(data.people || []); })
      .catch(function () { /* the next keystroke tries again */ });
  }

  q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 250); });
  q.addEventListener("keydown", function (e) { if (e.key === "Enter") { e.preventDefault(); search(); } });
  var button = picker.querySelector("[data-people-picker-search]");
  if (button) button.addEventListener("click", function (e) { e.preventDefault(); search(); });
})();
