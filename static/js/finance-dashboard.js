/* Charts of the finance dashboard (科技金融看板).
 *
 * Each chart is a <div data-chart="kind" data-source="json-id" [data-key="…"]> whose data comes from the
 * {{ charts|json_script:"chart-data" }} element of the page. Charts are (re)built whenever htmx settles new
 * content (the filters swap the dashboard's body). */
(function () {
  "use strict";

  var COLORS = ["#0b5cad", "#d9480f", "#2b8a3e", "#e67700", "#862e9c", "#1098ad", "#c92a2a"];

  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

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

  var builders = {
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
  };

  function init(root) {
    if (typeof echarts === "undefined") return;
    var scope = root && root.querySelectorAll ? root : document;
    var nodes = Array.prototype.slice.call(scope.querySelectorAll("[data-chart]"));
    if (scope.matches && scope.matches("[data-chart]")) nodes.push(scope);
    nodes.forEach(function (el) {
      var build = builders[el.dataset.chart];
      var data = read(el.dataset.source);
      if (!build || !data) return;
      var option = build(data, el);
      if (!option) return;
      var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option, true);
      el.dataset.chartReady = "true";
    });
  }

  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var el = event.target;
    if (typeof echarts !== "undefined" && el.dataset && el.dataset.chartReady) echarts.dispose(el);
  });

  // A chart in a closed <details> has no size: draw it when the details opens.
  document.addEventListener("toggle", function (event) {
    if (event.target.open) {
      event.target.querySelectorAll("[data-chart]").forEach(function (el) {
        var chart = typeof echarts !== "undefined" && echarts.getInstanceByDom(el);
        if (chart) chart.resize(); else init(el);
      });
    }
  }, true);

  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart-ready]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });

  if (window.htmx) {
    window.htmx.onLoad(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
