// The shell's behaviour: the watermark over every signed-in page, the phone nav toggle, and forms
// with data-confirm="…" that ask before they are sent (leave a group, delete a material …).
(function () {
  "use strict";

  // 水印: name, 工号 and date, tiled diagonally and faint, so a photo of the screen names its viewer.
  function drawWatermark(el) {
    var text = (el.getAttribute("data-text") || "").trim();
    if (!text) { return; }
    var ratio = window.devicePixelRatio || 1;
    var width = 260, height = 160;
    var canvas = document.createElement("canvas");
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    var ctx = canvas.getContext("2d");
    if (!ctx) { return; }
    ctx.scale(ratio, ratio);
    ctx.translate(width / 2, height / 2);
    ctx.rotate(-Math.PI / 7);
    ctx.font = "14px system-ui, 'PingFang SC', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif";
    ctx.fillStyle = "rgba(80, 80, 80, 0.09)";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText(text, 0, 0);
    el.style.backgroundImage = "url(" + canvas.toDataURL("image/png") + ")";
    el.style.backgroundSize = width + "px " + height + "px";
  }

  function setUpNavToggle() {
    var button = document.querySelector(".nav-toggle");
    var nav = document.querySelector(".shell-nav");
    if (!button || !nav) { return; }
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
      button.setAttribute("aria-label", open ? "收起菜单" : "展开菜单");
    });
  }

  // One listener for the whole page: forms added later (htmx) ask too.
  function setUpConfirmations() {
    document.addEventListener("submit", function (e) {
      var form = e.target;
      var question = form && form.getAttribute && form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { e.preventDefault(); }
    }, true);
  }

  function start() {
    var mark = document.querySelector(".watermark");
    if (mark) {
      drawWatermark(mark);
      // Someone removing the watermark in developer tools gets it back.
      if (window.MutationObserver) {
        new MutationObserver(function () {
          if (!document.body.contains(mark)) { document.body.appendChild(mark); }
          if (!mark.style.backgroundImage) { drawWatermark(mark); }
        }).observe(document.body, { childList: true });
      }
    }
    setUpNavToggle();
    setUpConfirmations();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
