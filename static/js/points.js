/* Charts of the innovation-points pages: their builders, registered with the chart runtime (charts.js). */
(function () {
  "use strict";

  var COLORS = window.twincityCharts.COLORS;
  var GRADE_COLORS = { A: "#2b8a3e", B: "#5c940d", C: "#e67700", D: "#d9480f", E: "#c92a2a" };

  function base() {
    return {
      color: COLORS,
      tooltip: { trigger: "axis" },
      grid: { left: 48, right: 16, top: 36, bottom: 56, containLabel: true },
      legend: { top: 0 },
      animation: false
    };
  }

  function categoryAxis(labels) {
    return { type: "category", data: labels, axisLabel: { interval: 0, rotate: labels.length > 5 ? 30 : 0 } };
  }

  window.twincityCharts.register({
    category: function (d) {
      var o = base();
      o.xAxis = categoryAxis(d.labels);
      o.yAxis = { type: "value" };
      o.series = [
        { name: d.series[1], type: "bar", data: d.max_points, barGap: "-100%", itemStyle: { color: "#e4e7eb" }, z: 1 },
        { name: d.series[0], type: "bar", data: d.points, z: 2, label: { show: true, position: "top" } }
      ];
      return o;
    },
    history: function (d) {
      var o = base();
      o.xAxis = { type: "category", data: d.dates };
      o.yAxis = { type: "value", scale: true };
      o.series = [
        { name: d.series[1], type: "line", data: d.max, symbolSize: 8 },
        { name: d.series[0], type: "line", data: d.min, symbolSize: 8, lineStyle: { type: "dashed" } }
      ];
      return o;
    },
    "group-mean": function (d) {
      var o = base();
      o.xAxis = categoryAxis(d.labels);
      o.yAxis = { type: "value" };
      o.series = [
        { name: d.series[0], type: "bar", data: d.mean, label: { show: true, position: "top" } },
        { name: d.series[1], type: "line", data: d.median, symbol: "diamond", symbolSize: 10, lineStyle: { opacity: 0 } },
        { name: d.series[2], type: "line", data: d.p90, symbol: "triangle", symbolSize: 10, lineStyle: { opacity: 0 } }
      ];
      return o;
    },
    "grade-stack": function (d) {
      var o = base();
      o.xAxis = categoryAxis(d.labels);
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = d.grades.map(function (g) {
        return { name: g, type: "bar", stack: "grades", data: d.counts[g], itemStyle: { color: GRADE_COLORS[g] } };
      });
      return o;
    },
    histogram: function (d) {
      var o = base();
      o.legend = { show: false };
      o.xAxis = categoryAxis(d.labels);
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = [{ name: d.series[0], type: "bar", data: d.counts, barCategoryGap: "4%" }];
      return o;
    }
  });
})();
