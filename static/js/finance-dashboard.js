/* Charts of the finance dashboard (科技金融看板): their builders, registered with the chart runtime (charts.js).
 * The data is the page's {{ charts|json_script:"chart-data" }}; `data-key` picks a dimension. */
(function () {
  "use strict";

  var COLORS = window.twincityCharts.COLORS;

  function base() {
    return {
      color: COLORS,
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 40, top: 40, bottom: 40, containLabel: true },
      legend: { top: 0 },
      animation: false
    };
  }

  function categoryAxis(labels) {
    return {
      type: "category", data: labels,
      axisLabel: { interval: 0, rotate: labels.length > 4 ? 30 : 0, width: 120, overflow: "truncate" }
    };
  }

  window.twincityCharts.register({
    volume: function (d, el) {
      var v = d.volume[el.dataset.key];
      var s = d.series;
      var o = base();
      o.xAxis = categoryAxis(v.labels);
      o.yAxis = [{ type: "value", name: s.asked }, { type: "value", name: s.cases, minInterval: 1 }];
      o.series = [
        { name: s.asked, type: "bar", data: v.asked },
        { name: s.approved, type: "bar", data: v.approved },
        { name: s.cases, type: "line", yAxisIndex: 1, data: v.cases, symbolSize: 8 }
      ];
      return o;
    },
    "league-days": function (d) {
      var l = d.league, s = d.series;
      var o = base();
      o.xAxis = categoryAxis(l.labels);
      o.yAxis = { type: "value", minInterval: 1 };
      o.series = [
        { name: s.wd, type: "bar", data: l.decision_wd },
        { name: s.cd, type: "bar", data: l.decision_cd }
      ];
      return o;
    },
    "league-rates": function (d) {
      var l = d.league, s = d.series;
      var o = base();
      o.xAxis = categoryAxis(l.labels);
      o.yAxis = { type: "value", max: 100, axisLabel: { formatter: "{value} %" } };
      o.series = [
        { name: s.claim_rate, type: "bar", data: l.claim_rate },
        { name: s.approval_rate, type: "bar", data: l.approval_rate }
      ];
      return o;
    },
    reasons: function (d) {
      var o = base();
      o.tooltip = { trigger: "item" };
      o.legend = { show: false };
      o.series = [{
        type: "pie", radius: ["35%", "65%"], label: { formatter: "{b}\n{c}" },
        data: d.reasons.labels.map(function (label, i) { return { name: label, value: d.reasons.counts[i] }; })
      }];
      return o;
    },
    bars: function (d, el) {
      var x = (d.extras || {})[el.dataset.key];
      if (!x) return null;
      var o = base();
      o.xAxis = categoryAxis(x.labels);
      o.yAxis = { type: "value" };
      o.series = x.series.map(function (s) { return { name: s.name, type: "bar", data: s.data }; });
      return o;
    }
  });
})();
