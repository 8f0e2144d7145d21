/* The sharing evaluation page's charts (twincity.instruments.views_usage.evaluation_view), drawn by charts.js. */
(function () {
  "use strict";
  if (!window.twincityCharts) return;
  var C = window.twincityCharts.COLORS;
  window.twincityCharts.register({
    benchmarks: function (data) {
      var rows = [data.own].concat(data.benchmarks);
      return {
        color: C, tooltip: { trigger: "axis" }, legend: { data: ["年均有效工作机时", "年均对外服务机时"] },
        grid: { left: 180, right: 24, top: 32, bottom: 24 },
        xAxis: { type: "value", name: "h" },
        yAxis: { type: "category", data: rows.map(function (r) { return r.label; }) },
        series: [
          { name: "年均有效工作机时", type: "bar", data: rows.map(function (r) { return r.effective; }) },
          { name: "年均对外服务机时", type: "bar", data: rows.map(function (r) { return r.external; }) }
        ]
      };
    },
    instruments: function (data) {
      if (!data.instruments.length) return null;
      return {
        color: C, tooltip: { trigger: "axis" }, legend: { data: ["有效工作机时", "对外服务机时"] },
        grid: { left: 48, right: 24, top: 32, bottom: 90 },
        xAxis: { type: "category", data: data.instruments, axisLabel: { rotate: 35, interval: 0 } },
        yAxis: { type: "value", name: "h" },
        series: [
          { name: "有效工作机时", type: "bar", data: data.effective },
          { name: "对外服务机时", type: "bar", data: data.external }
        ]
      };
    }
  });
})();
