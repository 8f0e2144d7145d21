/* The platform's chart runtime (ECharts, from our own static files).
 *
 * A chart is a <div data-chart="kind" data-source="json-id" [data-key="…"]> whose data comes from a
 * {{ data|json_script:"json-id" }} element of the page. A page's script registers a builder per kind,
 *     twincityCharts.register({ kind: function (data, el) { return echartsOption; } });
 * and this runtime draws every chart when the page loads, again whenever htmx settles new content, when a closed
 * <details> holding one opens, and on resize; a chart whose element htmx swaps out is disposed with it. */
(function () {
  "use strict";

  var builders = {};

  function read(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

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

  window.twincityCharts = {
    COLORS: ["#0b5cad", "#d9480f", "#2b8a3e", "#e67700", "#862e9c", "#1098ad", "#c92a2a"],
    register: function (more) {
      Object.keys(more).forEach(function (kind) { builders[kind] = more[kind]; });
    }
  };

  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var el = event.target;
    if (typeof echarts !== "undefined" && el.dataset && el.dataset.chartReady) echarts.dispose(el);
  });

  // A chart in a closed <details> has no size: draw it when the details opens.
  document.addEventListener("toggle", function (event) {
    if (event.target.open && event.target.querySelectorAll) {
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

  // Page scripts load after this one (deferred, in order) and register before the document is parsed; the first
  // drawing waits for it.
  if (window.htmx) {
    window.htmx.onLoad(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
