// The monthly grid checks each amount as it is typed (万元, at most 4 decimals; both figures
// of a row together) and will not submit while a cell is wrong. The server checks again and the
// API decides; this only saves a round trip.
"use strict";
(function () {
  var form = document.getElementById("grid-form");
  if (!form) { return; }
  var WAN = /^\d{1,9}(\.\d{1,4})?$/;
  function message(input) {
    var v = input.value.replace(/[,，]/g, "").trim();
    var row = input.closest("tr");
    var others = row.querySelectorAll("input[data-wan]");
    var rowTyped = Array.prototype.some.call(others, function (i) { return i.value.trim() !== ""; });
    if (v === "") { return rowTyped ? "两项须同时填写" : ""; }
    if (!/^\d+(\.\d+)?$/.test(v)) { return "须为不小于 0 的数字（万元）"; }
    if (!WAN.test(v)) { return /\.\d{5,}$/.test(v) ? "最多 4 位小数（即精确到元）" : "超出上限"; }
    return "";
  }
  function check(input) {
    var m = message(input);
    input.setAttribute("aria-invalid", m ? "true" : "false");
    var out = document.getElementById(input.id + "-msg");
    if (out) { out.textContent = m; }
    return !m;
  }
  function checkRow(row) {
    var ok = true;
    row.querySelectorAll("input[data-wan]").forEach(function (i) { ok = check(i) && ok; });
    return ok;
  }
  form.addEventListener("input", function (e) {
    if (e.target.matches("input[data-wan]")) { checkRow(e.target.closest("tr")); }
  });
  form.addEventListener("submit", function (e) {
    var ok = true;
    form.querySelectorAll("tbody tr").forEach(function (r) { ok = checkRow(r) && ok; });
    if (!ok) {
      e.preventDefault();
      var bad = form.querySelector('input[aria-invalid="true"]');
      if (bad) { bad.focus(); }
    }
  });
})();
