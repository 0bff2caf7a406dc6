/* Home page: every card's data comes from home-data.js (window.OH_HOME); filter it by museum,
   trade, place, decade, language and free text, sort it, and show it a page at a time
   ("show more"). Without JavaScript the server-rendered first page and the p/N.html pages stay. */
(function () {
  "use strict";
  var D = window.OH_HOME;
  var list = document.getElementById("cards");
  if (!D || !list) return;
  var F = D.facets, V = D.values, rows = D.rows, size = D.pageSize || 24;
  // row: 0 id, 1 title, 2 narrator, 3 date, 4 date label, 5 duration label, 6 place, 7 summary,
  //      8 museum idx, 9 trade idx, 10 place idx, 11 decade idx, 12 language idx, 13 museum name
  var COL = { museum: 8, trade: 9, place: 10, decade: 11, language: 12 };
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var text = document.getElementById("text-filter");
  var sortSel = document.getElementById("sort");
  var count = document.getElementById("shown-count");
  var label = document.getElementById("shown-label");
  var moreRow = document.getElementById("more-row");
  var more = document.getElementById("more");
  var pager = document.getElementById("pager");
  var lang = label ? label.getAttribute("data-lang") : "fr";
  var collator = window.Intl ? new Intl.Collator(lang, { sensitivity: "base", numeric: true }) : null;
  var numFmt = window.Intl ? new Intl.NumberFormat(lang) : null;
  document.getElementById("filter-row").hidden = false;
  if (pager) pager.hidden = true;

  function fold(s) {
    return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  // A folded haystack per row, for the text filter.
  var hay = rows.map(function (r) {
    var parts = [r[1], r[2], r[6], r[7], r[13], r[4]];
    r[9].forEach(function (i) { parts.push(V.trade[i][1]); });
    r[10].forEach(function (i) { parts.push(V.place[i][1]); });
    return fold(parts.join(" \u0001 "));
  });
  function cmp(a, b) { return collator ? collator.compare(a, b) : (a < b ? -1 : a > b ? 1 : 0); }
  var SORTS = {
    "date": function (a, b) { return (a[3] || "\uffff") < (b[3] || "\uffff") ? -1 : (a[3] || "\uffff") > (b[3] || "\uffff") ? 1 : cmp(a[1], b[1]); },
    "-date": function (a, b) { return a[3] > b[3] ? -1 : a[3] < b[3] ? 1 : cmp(a[1], b[1]); },
    "title": function (a, b) { return cmp(a[1], b[1]) || (a[3] < b[3] ? -1 : 1); },
    "narrator": function (a, b) { return cmp(a[2] || "\uffff", b[2] || "\uffff") || cmp(a[1], b[1]); }
  };

  var matches = [], shown = 0;
  function el(tag, cls, txt) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (txt !== undefined) e.textContent = txt;
    return e;
  }
  function card(r) {
    var li = el("li", "card");
    var h = el("h3"), a = el("a", "", r[1]);
    a.href = "i/" + encodeURIComponent(r[0]) + ".html";
    h.appendChild(a); li.appendChild(h);
    var meta = el("p", "meta");
    var bits = [];
    if (r[2]) bits.push(document.createTextNode(r[2]));
    if (r[3]) { var t = el("time", "", r[4]); t.setAttribute("datetime", r[3]); bits.push(t); }
    if (r[6]) bits.push(document.createTextNode(r[6]));
    if (r[13]) bits.push(document.createTextNode(r[13]));
    bits.push(document.createTextNode(r[5]));
    bits.forEach(function (b, i) { if (i) meta.appendChild(document.createTextNode(" · ")); meta.appendChild(b); });
    li.appendChild(meta);
    if (r[7]) li.appendChild(el("p", "summary", r[7]));
    if (r[9].length) {
      var tags = el("p", "tags");
      r[9].forEach(function (i) { tags.appendChild(el("span", "", V.trade[i][1])); tags.appendChild(document.createTextNode(" ")); });
      li.appendChild(tags);
    }
    return li;
  }
  function plural(n) {
    // French takes the singular for 0 and 1, English only for 1.
    var one = lang === "fr" ? n <= 1 : n === 1;
    return label.getAttribute(one ? "data-one" : "data-many");
  }
  function showMore(focus) {
    var frag = document.createDocumentFragment(), first = null;
    var upto = Math.min(matches.length, shown + size);
    for (var i = shown; i < upto; i++) {
      var li = card(matches[i]);
      if (!first) first = li;
      frag.appendChild(li);
    }
    list.appendChild(frag);
    shown = upto;
    moreRow.hidden = shown >= matches.length;
    if (focus && first) first.querySelector("a").focus();
  }
  function apply() {
    var want = selects.map(function (s) {
      var k = s.getAttribute("data-filter");
      if (!s.value) return null;
      var idx = -1;
      V[k].forEach(function (p, i) { if (p[0] === s.value) idx = i; });
      return [COL[k], idx];
    }).filter(Boolean);
    var words = fold(text ? text.value : "").split(/\s+/).filter(Boolean);
    matches = [];
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], ok = true;
      for (var j = 0; j < want.length && ok; j++) ok = r[want[j][0]].indexOf(want[j][1]) >= 0;
      for (var w = 0; w < words.length && ok; w++) ok = hay[i].indexOf(words[w]) >= 0;
      if (ok) matches.push(r);
    }
    matches.sort(SORTS[sortSel ? sortSel.value : "date"] || SORTS.date);
    list.textContent = "";
    shown = 0;
    showMore(false);
    if (count) count.textContent = numFmt ? numFmt.format(matches.length) : String(matches.length);
    if (label) label.textContent = plural(matches.length);
    saveState();
  }
  // The filters live in the address (?musee=…), so a filtered list can be shared and Back works.
  function saveState() {
    var q = new URLSearchParams();
    selects.forEach(function (s) { if (s.value) q.set(s.getAttribute("data-filter"), s.value); });
    if (text && text.value) q.set("q", text.value);
    if (sortSel && sortSel.value !== "date") q.set("tri", sortSel.value);
    var s = q.toString();
    if (/^https?:/.test(location.protocol)) history.replaceState(null, "", location.pathname + (s ? "?" + s : ""));
  }
  function loadState() {
    var q = new URLSearchParams(location.search);
    selects.forEach(function (s) { var v = q.get(s.getAttribute("data-filter")); if (v !== null) s.value = v; });
    if (text && q.get("q")) text.value = q.get("q");
    if (sortSel && q.get("tri") && SORTS[q.get("tri")]) sortSel.value = q.get("tri");
  }
  selects.forEach(function (sel) { sel.addEventListener("change", apply); });
  if (sortSel) sortSel.addEventListener("change", apply);
  var timer = null;
  if (text) text.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  if (more) more.addEventListener("click", function () { showMore(true); });
  loadState();
  apply();
})();
