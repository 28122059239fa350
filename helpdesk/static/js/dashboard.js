// Dashboard: figures from the JSON endpoint (data-url), drawn with Chart.js.
// No inline script (strict CSP): everything comes from data-* attributes and fetch.
// Charts follow the theme (helpdesk:theme from app.js) and refresh every 60 s,
// or at once when the real-time layer dispatches helpdesk:tickets-changed.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  if (!root || !window.Chart) { return; }
  var Chart = window.Chart;

  var STATUS_COLORS = {
    open: "#0d6efd", in_progress: "#0dcaf0", waiting: "#ffc107",
    resolved: "#198754", closed: "#6c757d"
  };
  var PRIORITY_COLORS = { low: "#adb5bd", medium: "#6c757d", high: "#fd7e14", urgent: "#dc3545" };
  var OPEN_STATUSES = ["open", "in_progress", "waiting"];

  var charts = {};
  var lastData = null;
  var daysSelect = document.getElementById("trend-days");
  var errorBox = document.getElementById("dashboard-error");
  var refreshMs = (parseInt(root.dataset.refreshSeconds, 10) || 60) * 1000;
  var timer = null;
  var pending = null;

  function cssVar(name, fallback) {
    var value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function themeColors() {
    return {
      text: cssVar("--bs-body-color", "#212529"),
      grid: cssVar("--bs-border-color-translucent", "rgba(0,0,0,.175)"),
      surface: cssVar("--bs-body-bg", "#fff")
    };
  }

  // Open the ticket list with the given filters (params: [[key, value], ...]).
  function openList(params) {
    var query = new URLSearchParams();
    params.forEach(function (pair) { query.append(pair[0], pair[1]); });
    window.location.assign(root.dataset.ticketsUrl + "?" + query.toString());
  }

  function nextDay(iso) {
    var d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  }

  function baseOptions(colors, onPick) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      color: colors.text,
      plugins: { legend: { labels: { color: colors.text } } },
      onClick: function (event, elements) {
        if (elements.length) { onPick(elements[0].datasetIndex, elements[0].index); }
      }
    };
  }

  function axes(colors, stacked) {
    var axis = {
      stacked: !!stacked,
      ticks: { color: colors.text, precision: 0 },
      grid: { color: colors.grid },
      border: { color: colors.grid }
    };
    return { x: Object.assign({}, axis), y: Object.assign({ beginAtZero: true }, axis) };
  }

  function draw(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return; }
    if (charts[id]) { charts[id].destroy(); }
    charts[id] = new Chart(canvas, config);
  }

  function render(data) {
    var colors = themeColors();
    lastData = data;

    Object.keys(data.cards).forEach(function (key) {
      var el = root.querySelector('[data-card="' + key + '"]');
      if (el) { el.textContent = data.cards[key]; }
    });

    var statusOpts = baseOptions(colors, function (ds, i) {
      openList([["status", data.status.keys[i]]]);
    });
    statusOpts.plugins.legend.position = "bottom";
    draw("chart-status", {
      type: "doughnut",
      data: {
        labels: data.status.labels,
        datasets: [{
          data: data.status.counts,
          backgroundColor: data.status.keys.map(function (k) { return STATUS_COLORS[k]; }),
          borderColor: colors.surface
        }]
      },
      options: statusOpts
    });

    var prioOpts = baseOptions(colors, function (ds, i) {
      openList([["priority", data.priority.keys[i]]]);
    });
    prioOpts.plugins.legend.display = false;
    prioOpts.scales = axes(colors);
    draw("chart-priority", {
      type: "bar",
      data: {
        labels: data.priority.labels,
        datasets: [{
          label: root.dataset.labelTickets,
          data: data.priority.counts,
          backgroundColor: data.priority.keys.map(function (k) { return PRIORITY_COLORS[k]; })
        }]
      },
      options: prioOpts
    });

    var catOpts = baseOptions(colors, function (ds, i) {
      openList([["category_id", String(data.category.keys[i])]]);
    });
    catOpts.plugins.legend.display = false;
    catOpts.indexAxis = "y";
    catOpts.scales = axes(colors);
    draw("chart-category", {
      type: "bar",
      data: {
        labels: data.category.labels,
        datasets: [{ label: root.dataset.labelTickets, data: data.category.counts, backgroundColor: "#6f42c1" }]
      },
      options: catOpts
    });

    var trendOpts = baseOptions(colors, function (ds, i) {
      var day = data.trend.days[i];
      openList([["created_from", day], ["created_to", nextDay(day)]]);
    });
    trendOpts.scales = axes(colors);
    trendOpts.scales.x.ticks.maxRotation = 0;
    trendOpts.scales.x.ticks.autoSkipPadding = 16;
    trendOpts.interaction = { mode: "index", intersect: false };
    draw("chart-trend", {
      type: "line",
      data: {
        labels: data.trend.days,
        datasets: [
          { label: root.dataset.labelCreated, data: data.trend.created, borderColor: "#0d6efd",
            backgroundColor: "#0d6efd", tension: 0.25, pointRadius: 2 },
          { label: root.dataset.labelResolved, data: data.trend.resolved, borderColor: "#198754",
            backgroundColor: "#198754", tension: 0.25, pointRadius: 2 }
        ]
      },
      options: trendOpts
    });

    if (data.workload && document.getElementById("chart-workload")) {
      var wl = data.workload;
      var prios = wl.priorities;
      var empty = document.getElementById("workload-empty");
      if (empty) { empty.classList.toggle("d-none", wl.technicians.length > 0); }
      var wlOpts = baseOptions(colors, function (ds, i) {
        var params = [["assignee", String(wl.technicians[i].id)], ["priority", prios[ds]]];
        OPEN_STATUSES.forEach(function (s) { params.push(["status", s]); });
        openList(params);
      });
      wlOpts.scales = axes(colors, true);
      draw("chart-workload", {
        type: "bar",
        data: {
          labels: wl.technicians.map(function (t) { return t.name; }),
          datasets: prios.map(function (p) {
            return { label: wl.priority_labels[p], data: wl.series[p], backgroundColor: PRIORITY_COLORS[p] };
          })
        },
        options: wlOpts
      });
    }
    root.dataset.ready = String(Date.now());
  }

  function load() {
    var url = root.dataset.url + "?days=" + encodeURIComponent(daysSelect ? daysSelect.value : "30");
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("HTTP " + resp.status); }
        return resp.json();
      })
      .then(function (data) {
        if (errorBox) { errorBox.classList.add("d-none"); }
        render(data);
      })
      .catch(function () {
        if (errorBox) {
          errorBox.textContent = root.dataset.labelError;
          errorBox.classList.remove("d-none");
        }
      });
  }

  function schedule() {
    if (timer) { clearInterval(timer); }
    timer = setInterval(function () {
      if (!document.hidden) { load(); }
    }, refreshMs);
  }

  // Several ticket events in a burst cause one reload, not one each.
  function soon() {
    if (pending) { return; }
    pending = setTimeout(function () { pending = null; load(); }, 1500);
  }

  if (daysSelect) { daysSelect.addEventListener("change", load); }
  document.addEventListener("helpdesk:theme", function () { if (lastData) { render(lastData); } });
  document.addEventListener("helpdesk:tickets-changed", soon);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { load(); } });
  window.helpdesk = window.helpdesk || {};
  window.helpdesk.dashboardCharts = charts;
  load();
  schedule();
})();
