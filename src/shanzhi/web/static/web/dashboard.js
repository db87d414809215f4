// 驾驶舱: each chart fetches its own JSON and draws itself with ECharts; every mark and every
// number below it links to the case list of the cases it counts.
(function () {
  "use strict";
  var charts = [];
  var COLORS = ["#b3261e", "#1d5fbf", "#2e6b30", "#8a5a00", "#6b4fbb", "#0f7b8a", "#c2185b", "#5d4037"];

  function go(params) {
    var url = params && params.data && params.data.url;
    if (url) { window.location.href = url; }
  }

  function links(name, items) {
    var list = document.querySelector("[data-testid='chart-links-" + name + "']");
    if (!list) { return; }
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      var label = document.createElement("span");
      label.className = "muted";
      label.textContent = item.label;
      var a = document.createElement("a");
      a.href = item.url;
      a.textContent = String(item.value);
      a.setAttribute("data-key", item.key || "");
      li.appendChild(label);
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  // Rates from red (low) to green (high); grey where nothing was counted.
  function rateColor(rate) {
    if (rate === null || rate === undefined) { return "#b0b7c0"; }
    var t = Math.max(0, Math.min(1, (rate - 60) / 40));
    var r = Math.round(200 - 150 * t), g = Math.round(70 + 100 * t), b = Math.round(60 + 20 * t);
    return "rgb(" + r + "," + g + "," + b + ")";
  }

  var BUILD = {
    trend: function (data) {
      var items = [];
      data.series.forEach(function (s) {
        s.data.forEach(function (point, i) {
          if (point.value) { items.push({ label: data.labels[i] + s.name, value: point.value, url: point.url, key: s.key }); }
        });
      });
      links("trend", items.slice(-24));
      return {
        color: ["#1d5fbf", "#2e6b30"],
        tooltip: { trigger: "axis" },
        legend: { top: 0 },
        grid: { left: 40, right: 16, top: 30, bottom: 28 },
        xAxis: { type: "category", data: data.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: data.series.map(function (s) {
          return { name: s.name, type: "line", smooth: false, data: s.data };
        })
      };
    },
    categories: function (data) {
      links("categories", data.items.map(function (it) { return { label: it.name, value: it.value, url: it.url }; }));
      return {
        color: COLORS,
        tooltip: { trigger: "item", formatter: function (p) { return p.name + ":" + p.value + " 件(办结率 " + p.data.rate_text + ")"; } },
        series: [{ type: "pie", radius: ["35%", "68%"], data: data.items, label: { formatter: "{b}\n{c}" } }]
      };
    },
    areas: function (data) {
      links("areas", data.items.map(function (it) { return { label: it.name, value: it.value, url: it.url }; }));
      return {
        tooltip: { formatter: function (p) { return p.name + "<br>受理 " + p.value + " 件,办结率 " + p.data.rate_text; } },
        series: [{
          type: "treemap", roam: false, nodeClick: false, breadcrumb: { show: false },
          width: "100%", height: "100%",
          label: { formatter: function (p) { return p.name + "\n" + p.value + "件 " + p.data.rate_text; } },
          data: data.items.filter(function (it) { return it.value > 0; }).map(function (it) {
            return { name: it.name, value: it.value, url: it.url, rate_text: it.rate_text, itemStyle: { color: rateColor(it.rate) } };
          })
        }]
      };
    },
    deadline: function (data) {
      links("deadline", data.items.map(function (it) { return { label: it.name, value: it.value, url: it.url, key: it.key }; }));
      return {
        color: ["#2e6b30", "#8a5a00", "#b3261e"],
        tooltip: { trigger: "item" },
        legend: { bottom: 0 },
        series: [{ type: "pie", radius: ["40%", "65%"], data: data.items, label: { formatter: "{b}\n{c}件" } }]
      };
    },
    satisfaction: function (data) {
      links("satisfaction", data.items.map(function (it) { return { label: it.name, value: it.value, url: it.url, key: it.key }; }));
      return {
        tooltip: { trigger: "axis" },
        grid: { left: 60, right: 24, top: 10, bottom: 24 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: data.items.map(function (it) { return it.name; }) },
        series: [{
          type: "bar",
          data: data.items.map(function (it, i) {
            return { value: it.value, url: it.url, itemStyle: { color: ["#2e6b30", "#7cb342", "#b3261e", "#b0b7c0"][i] } };
          }),
          label: { show: true, position: "right" }
        }]
      };
    }
  };

  function load(el) {
    var kind = el.getAttribute("data-kind");
    fetch(el.getAttribute("data-src"), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        el.textContent = "";
        var chart = window.echarts.init(el, null, { renderer: "canvas" });
        chart.setOption(BUILD[kind](data));
        chart.on("click", go);
        charts.push(chart);
        var note = document.querySelector("[data-testid='chart-note-" + kind + "']");
        if (note && data.note) { note.textContent = data.note; }
        el.setAttribute("data-ready", "true");
      })
      .catch(function () { el.innerHTML = "<p class='error'>图表加载失败,请刷新重试</p>"; });
  }

  document.querySelectorAll(".chart[data-src]").forEach(load);
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
