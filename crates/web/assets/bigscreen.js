// The wall display follows the API's `dashboard` subscription (graphql-transport-ws over
// /graphql/ws, authenticated by the session cookie): at each update it fetches the
// server-rendered figures again, so the wall shows exactly what the cockpit page would.
"use strict";
(function () {
  var root = document.getElementById("bigscreen");
  if (!root) { return; }
  var year = Number(root.getAttribute("data-year"));
  var unit = root.getAttribute("data-unit") || null;
  var updated = document.getElementById("updated");
  var retry = 1000;
  function stamp(text) { if (updated) { updated.textContent = text; } }
  // Responses may arrive out of order, and a page fetched the instant an update is announced
  // may still be answered from a cache the update has not reached yet: only the latest fetch
  // counts, and it is repeated (a few times, half a second apart) until the page shows the
  // figure the subscription announced.
  var latest = 0;
  function refresh(expected, tries) {
    var mine = ++latest;
    var q = unit ? "?unit=" + encodeURIComponent(unit) : "";
    fetch("/bigscreen/figures" + q, { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (mine !== latest) { return; }
        var live = document.getElementById("live");
        live.innerHTML = html;
        if (window.tzDrawCharts) { window.tzDrawCharts(live); }
        var k = live.querySelector(".kpi[data-k=ytdInvestment]");
        if (k && expected !== undefined && k.getAttribute("data-value") !== String(expected) && tries < 10) {
          setTimeout(function () { if (mine === latest) { refresh(expected, tries + 1); } }, 500);
          return;
        }
        stamp("更新于 " + new Date().toLocaleTimeString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false }));
        root.setAttribute("data-updates", String(Number(root.getAttribute("data-updates") || "0") + 1));
      });
  }
  function connect() {
    var proto = location.protocol === "https:" ? "wss:" : "ws:";
    var ws = new WebSocket(proto + "//" + location.host + "/graphql/ws", "graphql-transport-ws");
    var first = true;
    ws.onopen = function () { ws.send(JSON.stringify({ type: "connection_init", payload: {} })); };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (m.type === "connection_ack") {
        retry = 1000;
        stamp("已连接");
        root.setAttribute("data-live", "true");
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: {
          query: "subscription($year: Int!, $unit: ID) { dashboard(year: $year, unit: $unit) { ytdInvestment redCount } }",
          variables: { year: year, unit: unit } } }));
      } else if (m.type === "next") {
        // The first message is the current state, which the page already shows.
        if (first) { first = false; return; }
        var d = m.payload && m.payload.data && m.payload.data.dashboard;
        refresh(d ? d.ytdInvestment : undefined, 0);
      } else if (m.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      }
    };
    ws.onclose = function () {
      root.setAttribute("data-live", "false");
      stamp("连接中断，正在重连…");
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
