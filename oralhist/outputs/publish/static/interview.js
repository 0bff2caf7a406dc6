/* Interview page: search within this testimony, « partager ce moment » and « citer ».
   Plain JS, no build step; without it the page keeps its transcript and a printed citation. */
(function () {
  "use strict";
  var audio = document.getElementById("player");

  function fold(s) { return String(s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  // "1 min 07 s", as the page prints times (narrow spaces are no-break spaces).
  function position(sec) {
    var s = Math.max(0, Math.floor(sec)), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, r = s % 60;
    var sp = "\u00a0", two = function (n) { return (n < 10 ? "0" : "") + n; };
    if (h) return h + sp + "h" + sp + two(m) + sp + "min" + sp + two(r) + sp + "s";
    if (m) return m + sp + "min" + sp + two(r) + sp + "s";
    return r + sp + "s";
  }

  /* ---- search within this testimony ---- */
  var find = document.getElementById("find");
  var q = document.getElementById("find-q");
  var segs = Array.prototype.slice.call(document.querySelectorAll("#transcript .seg"));
  if (find && q && segs.length) {
    find.hidden = false;
    var only = document.getElementById("find-only");
    var countEl = document.getElementById("find-count");
    var hits = [], cur = -1;
    var texts = segs.map(function (s) { var p = s.querySelector(".txt"); return fold(p ? p.textContent.replace(/\u200b/g, "") : ""); });
    function clear() {
      Array.prototype.forEach.call(document.querySelectorAll("#transcript .hit, #transcript .hit-cur"), function (e) {
        e.classList.remove("hit"); e.classList.remove("hit-cur");
      });
      Array.prototype.forEach.call(document.querySelectorAll("#transcript mark.find-mark"), function (mk) {
        mk.replaceWith(document.createTextNode(mk.textContent));
      });
    }
    function markWords(seg, words) {
      var ws = seg.querySelectorAll(".w");
      if (ws.length) {
        Array.prototype.forEach.call(ws, function (w) {
          var f = fold(w.textContent);
          if (words.some(function (x) { return f.indexOf(x) >= 0; })) w.classList.add("hit");
        });
      }
    }
    function run() {
      clear();
      var words = fold(q.value).split(/\s+/).filter(Boolean);
      hits = [];
      cur = -1;
      segs.forEach(function (s, i) {
        var ok = words.length > 0 && words.every(function (w) { return texts[i].indexOf(w) >= 0; });
        if (ok) { hits.push(i); s.classList.add("hit"); markWords(s, words); }
        s.hidden = !!(only && only.checked && words.length && !ok);
      });
      Array.prototype.forEach.call(document.querySelectorAll("#transcript .redacted"), function (r) {
        r.hidden = !!(only && only.checked && words.length);
      });
      if (!words.length) { countEl.textContent = ""; return; }
      var n = hits.length, one = n <= 1;
      countEl.textContent = n + " " + countEl.getAttribute(one ? "data-one" : "data-many");
    }
    function go(step) {
      if (!hits.length) return;
      if (cur >= 0) segs[hits[cur]].classList.remove("hit-cur");
      cur = (cur + step + hits.length) % hits.length;
      var s = segs[hits[cur]];
      s.classList.add("hit-cur");
      s.scrollIntoView({ block: "center" });
      // Focus stays in the search box (Enter again goes on); Tab from there reaches the passage.
      var ts = s.querySelector("a.ts");
      Array.prototype.forEach.call(document.querySelectorAll("#transcript a.ts[data-next]"), function (x) { x.removeAttribute("data-next"); });
      if (ts) ts.setAttribute("data-next", "");
      countEl.textContent = (cur + 1) + " / " + hits.length;
    }
    var timer = null;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
    q.addEventListener("keydown", function (ev) {
      if (ev.key === "Tab" && !ev.shiftKey && cur >= 0) {
        var target = segs[hits[cur]].querySelector("a.ts");
        if (target) { ev.preventDefault(); target.focus(); return; }
      }
      if (ev.key === "Enter") { ev.preventDefault(); clearTimeout(timer); if (cur < 0) run(); go(ev.shiftKey ? -1 : 1); }
      if (ev.key === "Escape") { q.value = ""; run(); }
    });
    document.getElementById("find-next").addEventListener("click", function () { go(1); });
    document.getElementById("find-prev").addEventListener("click", function () { go(-1); });
    if (only) only.addEventListener("change", run);
  }

  /* ---- share this moment, cite ---- */
  var tools = document.getElementById("moment-tools");
  if (!tools) return;
  tools.hidden = false;
  var lang = tools.getAttribute("data-lang") || "fr";
  // The stable address: [site] base_url's when the site was built with one, else this page's.
  var base = tools.getAttribute("data-url") || (location.href.split("#")[0].split("?")[0]);
  function now() { return audio ? Math.floor(audio.currentTime || 0) : 0; }
  function momentUrl() { var t = now(); return t > 0 ? base + "#t=" + t : base; }
  var out = document.getElementById("share-out");
  var urlBox = document.getElementById("share-url");
  var status = document.getElementById("share-status");
  function copy(text, done) {
    var ok = function () { done(true); }, ko = function () { done(false); };
    if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(ok, ko);
    else ko();
  }
  var share = document.getElementById("share");
  if (share) share.addEventListener("click", function () {
    var u = momentUrl();
    urlBox.value = u;
    out.hidden = false;
    copy(u, function (ok) {
      status.textContent = ok ? share.getAttribute("data-copied") || "" : "";
      if (!ok) { urlBox.focus(); urlBox.select(); }
    });
  });
  var citeBox = document.getElementById("cite-box");
  var citeEl = document.getElementById("citation");
  var server = citeEl.textContent;
  function consulted() {
    var d = new Date();
    try {
      var s = new Intl.DateTimeFormat(lang, { day: "numeric", month: "long", year: "numeric" }).format(d);
      if (lang === "fr" && d.getDate() === 1) s = s.replace(/^1 /, "1er ");
      return s;
    } catch (e) { return d.toISOString().slice(0, 10); }
  }
  function citation() {
    var t = now();
    var text = server.replace(/(En ligne\u00a0: |Online: )(\S+)$/, function (_, lead) { return lead + momentUrl(); });
    if (t > 0) text = text.replace(/\. (En ligne|Online)/, ", " + (lang === "fr" ? "à " : "at ") + position(t) + ". $1");
    return text + (lang === "fr" ? " (consulté le " : " (accessed ") + consulted() + ").";
  }
  citeBox.addEventListener("toggle", function () { if (citeBox.open) citeEl.textContent = citation(); });
  document.getElementById("cite-copy").addEventListener("click", function () {
    citeEl.textContent = citation();
    copy(citeEl.textContent, function (ok) {
      var btn = document.getElementById("cite-copy");
      document.getElementById("cite-status").textContent = ok ? btn.getAttribute("data-copied") : "";
      var r = document.createRange();
      r.selectNodeContents(citeEl);
      var sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(r);
    });
  });
  if (audio) audio.addEventListener("pause", function () { if (citeBox.open) citeEl.textContent = citation(); });
})();
