// The task page: 常用意见 fill the opinion box; a handwritten signature drawn with finger or mouse
// goes into the form as a PNG data URL (the server checks and stores it).
(function () {
  var form = document.getElementById("step-form");
  if (!form) return;
  var opinion = form.querySelector("textarea[name=opinion]");
  form.querySelectorAll("[data-opinion]").forEach(function (b) {
    b.addEventListener("click", function () { if (opinion) opinion.value = b.dataset.opinion; });
  });
  var canvas = document.getElementById("signature-pad");
  var field = form.querySelector("input[name=signature]");
  if (!canvas || !field) return;
  var ctx = canvas.getContext("2d"), drawing = false, drawn = false;
  ctx.lineWidth = 2.5; ctx.lineCap = "round"; ctx.strokeStyle = "#111";
  function at(e) { var r = canvas.getBoundingClientRect(); return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height]; }
  canvas.addEventListener("pointerdown", function (e) { drawing = true; var p = at(e); ctx.beginPath(); ctx.moveTo(p[0], p[1]); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener("pointermove", function (e) { if (!drawing) return; var p = at(e); ctx.lineTo(p[0], p[1]); ctx.stroke(); drawn = true; });
  canvas.addEventListener("pointerup", function () { drawing = false; });
  document.getElementById("signature-clear").addEventListener("click", function () { ctx.clearRect(0, 0, canvas.width, canvas.height); drawn = false; });
  form.addEventListener("submit", function () { field.value = drawn ? canvas.toDataURL("image/png") : ""; });
})();
