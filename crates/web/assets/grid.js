// The monthly grid checks each amount as it is typed (万元: a number ≥ 0 with at most 4
// decimals, i.e. whole yuan; both amounts of a row together) and will not submit while a cell
// is wrong. It tolerates what the server's reading (domain::Yuan::parse_wan) tolerates: spaces,
// full-width digits, thousands separators grouped by three. The server checks again and the API
// decides; this only saves a round trip. Messages in Chinese and English, as the server's.
"use strict";
(function () {
  var form = document.getElementById("grid-form");
  if (!form) { return; }
  function normal(v) {
    return v.replace(/[\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); })
      .replace(/\uFF0E/g, ".").replace(/[\uFF0C]/g, ",").replace(/[\s\u3000\u00A0]/g, "").replace(/^\+/, "");
  }
  function message(input) {
    var v = normal(input.value);
    var row = input.closest("tr");
    var texts = row.querySelectorAll("input:not([type=hidden])");
    var rowTyped = Array.prototype.some.call(texts, function (i) { return i.value.trim() !== "" && !i.name.startsWith("why:"); });
    var reported = row.getAttribute("data-reported") === "true";
    if (v === "") {
      return rowTyped || reported ? "须填写（没有则填 0） · required (0 when none)" : "";
    }
    if (/^-/.test(v)) { return "不能小于 0 · must be ≥ 0"; }
    if (!/^(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$/.test(v)) { return "须为数字（万元） · not a number in 万元"; }
    if (/\.\d{5,}$/.test(v)) { return "最多 4 位小数（即精确到元） · at most 4 decimals (whole yuan)"; }
    if (v.replace(/,/g, "").split(".")[0].length > 9) { return "超出上限 · above the limit"; }
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
    var row = e.target.closest("tr");
    if (row && row.querySelector("input[data-wan]")) { checkRow(row); }
  });
  form.addEventListener("submit", function (e) {
    var ok = true;
    form.querySelectorAll("tbody tr").forEach(function (r) {
      if (r.querySelector("input[data-wan]")) { ok = checkRow(r) && ok; }
    });
    if (!ok) {
      e.preventDefault();
      var bad = form.querySelector('input[aria-invalid="true"]');
      if (bad) { bad.focus(); }
      return;
    }
    var b = document.getElementById("grid-submit");
    // One batch per click: a second click while the first is on its way would only replay it.
    if (b) { b.disabled = true; b.textContent = "提交中…"; }
  });
})();
