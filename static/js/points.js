/* Charts of the innovation-points pages.
 *
 * Each chart is a <div data-chart="kind" data-source="json-id"> whose data comes from a
 * {{ data|json_script:"json-id" }} element next to it. Charts are (re)built whenever htmx
 * settles new content, so swapped partials get their charts too. */
(function () {
  "use strict";

  var COLORS = ["#0b5cad", "#d9480f", "#2b8a3e", "#e67700", "#862e9c", "#1098ad", "#c92a2a"];
  var GRADE_COLORS = { A: "#2b8a3e", B: "#5c940d", C: "#e67700", D: "#d9480f", E: "#c92a2a" };

  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

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

  var builders = {
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
      var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(build(data), true);
      el.dataset.chartReady = "true";
    });
  }

  // A chart whose element htmx swaps out is disposed with it.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var el = event.target;
    if (typeof echarts !== "undefined" && el.dataset && el.dataset.chartReady) echarts.dispose(el);
  });

  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart-ready]").forEach(function (el) {
      var chart = echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  });

  if (window.htmx) {
    // Runs once for the page, then for every piece of content htmx swaps in.
    window.htmx.onLoad(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
