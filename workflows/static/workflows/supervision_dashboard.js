/* 督办看板: draws each chart from the table under it (the table is the data and works without
   JavaScript); clicking a bar or slice opens the same list as the number in the table. */
(function () {
  "use strict";
  var COLORS = { red: "#d93025", yellow: "#e8a600", green: "#188038" };
  var PALETTE = ["#3b82f6", "#8b5cf6", "#d93025", "#0ea5e9", "#f97316"];

  function readTable(table) {
    var heads = Array.prototype.slice.call(table.querySelectorAll("thead th"));
    var series = [];
    heads.forEach(function (th, index) {
      if (th.hasAttribute("data-series")) {
        series.push({ name: th.textContent.trim(), column: index, color: th.getAttribute("data-color") });
      }
    });
    var rows = [];
    table.querySelectorAll("tbody tr").forEach(function (tr) {
      var cells = tr.children;
      var label = cells[0] ? cells[0].textContent.trim() : "";
      var values = series.map(function (s) {
        var link = cells[s.column] && cells[s.column].querySelector("a[data-value]");
        return link ? { value: Number(link.getAttribute("data-value")), href: link.getAttribute("href") } : null;
      });
      if (values.some(function (v) { return v !== null; })) {
        rows.push({ label: label, color: tr.getAttribute("data-color"), values: values });
      }
    });
    return { series: series, rows: rows };
  }

  function optionFor(table, data) {
    var type = table.getAttribute("data-type") || "bar";
    if (type === "pie") {
      return {
        tooltip: { trigger: "item" },
        series: [{
          type: "pie",
          radius: ["35%", "65%"],
          data: data.rows.map(function (r) {
            return { name: r.label, value: r.values[0].value, href: r.values[0].href,
                     itemStyle: { color: COLORS[r.color] || undefined } };
          })
        }]
      };
    }
    var stacked = table.getAttribute("data-stack") === "1";
    return {
      tooltip: { trigger: "axis" },
      legend: { show: data.series.length > 1, top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: data.series.length > 1 ? 28 : 8, containLabel: true },
      xAxis: { type: "category", data: data.rows.map(function (r) { return r.label; }),
               axisLabel: { interval: 0, rotate: data.rows.length > 4 ? 40 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: data.series.map(function (s, i) {
        return {
          name: s.name,
          type: type,
          stack: stacked ? "all" : undefined,
          itemStyle: { color: COLORS[s.color] || PALETTE[i % PALETTE.length] },
          data: data.rows.map(function (r) {
            var v = r.values[i];
            return v ? { value: v.value, href: v.href } : { value: 0 };
          })
        };
      })
    };
  }

  function draw() {
    if (typeof window.echarts === "undefined") { return; }
    document.querySelectorAll("table.sv-data[data-chart]").forEach(function (table) {
      var box = document.getElementById(table.getAttribute("data-chart"));
      var data = readTable(table);
      if (!box || !data.rows.length) { return; }
      var chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(optionFor(table, data));
      chart.on("click", function (params) {
        var href = params.data && params.data.href;
        if (href) { window.location.href = href; }
      });
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
