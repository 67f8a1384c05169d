// Draws every element with data-chart from its data-series (JSON rendered by the server).
// The figures are the API's; this file only chooses how they look. Tables beside each chart
// carry the same figures for screen readers and printing.
"use strict";
(function () {
  var RED = "#c62828", YELLOW = "#f9a825", GREEN = "#2e7d32", BLUE = "#1565c0", GREY = "#78909c";
  function num(v) { return v === null || v === undefined ? null : Number(v); }
  var builders = {
    monthly: function (s) {
      return {
        tooltip: { trigger: "axis" },
        legend: { data: [s.thisName, s.priorName] },
        grid: { left: 70, right: 20, top: 40, bottom: 30 },
        xAxis: { type: "category", data: s.months },
        yAxis: { type: "value", name: "万元" },
        series: [
          { name: s.thisName, type: "line", data: s.this.map(num), itemStyle: { color: BLUE } },
          { name: s.priorName, type: "line", data: s.prior.map(num), itemStyle: { color: GREY }, lineStyle: { type: "dashed" } }
        ]
      };
    },
    lights: function (s) {
      return {
        tooltip: { trigger: "item" },
        series: [{ type: "pie", radius: ["40%", "70%"], label: { formatter: "{b} {c}" }, data: [
          { name: "红灯", value: s.red, itemStyle: { color: RED } },
          { name: "黄灯", value: s.yellow, itemStyle: { color: YELLOW } },
          { name: "绿灯", value: s.green, itemStyle: { color: GREEN } }
        ] }]
      };
    },
    ranking: function (s) {
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 100, right: 30, top: 10, bottom: 30 },
        xAxis: { type: "value", name: "得分" },
        yAxis: { type: "category", data: s.units.slice().reverse() },
        series: [{ type: "bar", data: s.scores.map(num).reverse(), itemStyle: { color: BLUE } }]
      };
    },
    signed: function (s) {
      return {
        tooltip: { trigger: "item", formatter: "{b}: {c} 万元 ({d}%)" },
        series: [{ type: "pie", radius: "65%", data: s.types.map(function (t, i) {
          return { name: t, value: num(s.investment[i]) };
        }) }]
      };
    }
  };
  function draw(root) {
    if (!window.echarts) { return; }
    var els = (root || document).querySelectorAll("[data-chart]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], build = builders[el.getAttribute("data-chart")];
      if (!build) { continue; }
      var old = window.echarts.getInstanceByDom(el);
      if (old) { old.dispose(); }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      var option = build(JSON.parse(el.getAttribute("data-series")));
      // No animation: a wall display redraws often, and a chart is read, not watched.
      option.animation = false;
      chart.setOption(option);
      el.setAttribute("data-drawn", "true");
    }
  }
  window.tzDrawCharts = draw;
  window.addEventListener("resize", function () {
    var els = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < els.length; i++) {
      var c = window.echarts && window.echarts.getInstanceByDom(els[i]);
      if (c) { c.resize(); }
    }
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(); });
  } else { draw(); }
})();
