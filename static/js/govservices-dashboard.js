/* Charts of the public-services dashboard (政务服务看板), registered with the chart runtime (charts.js).
 * The data is the page's {{ charts|json_script:"gov-chart-data" }}. */
(function () {
  "use strict";

  var COLORS = window.twincityCharts.COLORS;

  function base() {
    return { color: COLORS, tooltip: { trigger: "axis" }, legend: { top: 0 }, animation: false,
             grid: { left: 40, right: 40, top: 40, bottom: 40, containLabel: true } };
  }

  function axis(labels) {
    return { type: "category", data: labels,
             axisLabel: { interval: 0, rotate: labels.length > 4 ? 30 : 0, width: 120, overflow: "truncate" } };
  }

  window.twincityCharts.register({
    "gov-cities": function (d) {
      var c = d.cities, o = base();
      o.xAxis = axis(c.labels);
      o.yAxis = [{ type: "value", name: "工作日" }, { type: "value", name: "办件", minInterval: 1 }];
      o.series = [
        { name: "平均用时", type: "bar", data: c.avg_taken },
        { name: "平均承诺时限", type: "bar", data: c.avg_promised },
        { name: "办件量", type: "line", yAxisIndex: 1, data: c.filed, symbolSize: 8 }
      ];
      return o;
    },
    "gov-items": function (d) {
      var c = d.items, o = base();
      o.xAxis = axis(c.labels);
      o.yAxis = { type: "value", name: "工作日" };
      o.series = [{ name: "平均用时", type: "bar", data: c.avg_taken },
                  { name: "承诺时限", type: "bar", data: c.avg_promised }];
      return o;
    },
    "gov-states": function (d) {
      var c = d.states, o = base();
      o.xAxis = axis(c.labels);
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = [{ name: "办件", type: "bar", data: c.counts }];
      return o;
    },
    "gov-grades": function (d) {
      var c = d.grades;
      return { color: ["#2b8a3e", "#69db7c", "#ffd43b", "#ff922b", "#c92a2a"], tooltip: { trigger: "item" },
               legend: { top: 0 }, animation: false,
               series: [{ name: "评价", type: "pie", radius: ["35%", "65%"],
                          data: c.labels.map(function (l, i) { return { name: l, value: c.counts[i] }; }) }] };
    }
  });
})();
