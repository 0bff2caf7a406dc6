/* Shared helpers of the oralhist editor. Data from the server is only ever put in the page
   with textContent / value (never innerHTML), so a transcript cannot inject markup. */
"use strict";
var OH = (function () {
  var statusEl = document.getElementById("status");
  function say(msg, isError) {
    if (!statusEl) return;
    statusEl.textContent = msg;
    statusEl.className = "status" + (isError ? " error" : "");
    statusEl.setAttribute("role", isError ? "alert" : "status");
  }
  async function api(method, url, data) {
    var meta = document.querySelector('meta[name="csrf"]');
    var opts = { method: method, headers: { "X-Oralhist": "1", "X-CSRF-Token": meta ? meta.content : "" },
                 credentials: "same-origin" };
    if (data !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(data);
    }
    var r = await fetch(url, opts);
    var body = null;
    try { body = await r.json(); } catch (e) { body = { error: "réponse illisible (" + r.status + ")" }; }
    return { ok: r.ok, status: r.status, body: body };
  }
  function hms(ms) {
    var s = Math.max(0, Math.floor((ms || 0) / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0") + ":" + String(x).padStart(2, "0");
  }
  function position(ms) {  // prose: « 1 min 07 s » (as the pages' `position` filter); hms() is for editing fields
    var s = Math.max(0, Math.floor((ms || 0) / 1000)), sp = "\u00a0";
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    var two = function (n) { return String(n).padStart(2, "0"); };
    if (h) return h + sp + "h" + sp + two(m) + sp + "min" + sp + two(x) + sp + "s";
    if (m) return m + sp + "min" + sp + two(x) + sp + "s";
    return x + sp + "s";
  }
  function parseHms(t) {
    var parts = String(t).trim().replace(",", ".").split(":");
    if (!parts.length || parts.some(function (p) { return p === "" || isNaN(Number(p)); })) return null;
    var sec = 0;
    for (var i = 0; i < parts.length; i++) sec = sec * 60 + Number(parts[i]);
    return Math.round(sec * 1000);
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) { if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  var iid = document.body.getAttribute("data-interview");
  return { say: say, api: api, hms: hms, position: position, parseHms: parseHms, el: el, iid: iid,
           base: iid ? "/api/i/" + encodeURIComponent(iid) : null };
})();

/* issue 21, item 6: on a phone every list table is shown as cards; each cell is led by its
   column's name, copied here from the table's header (rows added later are labelled too). */
(function () {
  function label(table) {
    var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) { return th.textContent.trim(); });
    if (!heads.length) return;
    table.querySelectorAll("tbody > tr").forEach(function (tr) {
      var i = 0;
      Array.prototype.forEach.call(tr.children, function (cell) {
        var span = Number(cell.getAttribute("colspan") || 1);
        if (span === 1 && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i] || "");
        i += span;
      });
    });
  }
  document.querySelectorAll("table.list").forEach(function (table) {
    label(table);
    if (window.MutationObserver) new MutationObserver(function () { label(table); }).observe(table, { childList: true, subtree: true });
  });
})();

/* issue 21: a speaker the machine labelled and nobody named yet: « Voix 1 », never SPEAKER_1 */
OH.voice = function (label) {
  var m = /^SPEAKER_0*(\d+)$/.exec(String(label || ""));
  return m ? "Voix " + m[1] : String(label || "");
};

/* issue 21: a file picker worded in French hides the browser’s own input; a form sent without its
   required file says so in French (before the page’s own handler runs) */
document.addEventListener("submit", function (ev) {
  var input = ev.target.querySelector && ev.target.querySelector(".file-pick input[type=file]:not([data-optional])");
  if (input && !input.files.length) {
    ev.preventDefault();
    ev.stopImmediatePropagation();
    OH.say("Choisissez d’abord un fichier.", true);
    input.focus();
  }
}, true);
