/* Doubtful words in the editor (issue 23): Alt+N / Alt+P jump to the next / previous doubtful
   word and play from one second before it, Alt+Entrée confirms the word (it stops being
   doubtful, for good), the counter « N mots douteux restants ». The words are the editor's
   <span class="w low"> (editor.js marks them from the server's rule); a word typed over
   stops being doubtful at once, and for good once saved (an edited word has no probability). */
"use strict";
(function () {
  var box = document.getElementById("segments");
  var audio = document.getElementById("audio");
  var countEl = document.getElementById("doubt-count");
  if (!box || !audio || !countEl) return;
  var current = null;  // the doubtful word jumped to last
  var PREROLL_MS = 1000;

  // The doubtful words in document (= time) order, kept as an array with their start times: built
  // once per rendering (editor.js: load, refresh, undo, split, merge), a confirmed or typed-over word
  // taken out. Alt+N is then a binary search over numbers, with no walk of the 31,000 words of a
  // three-hour transcript (a live getElementsByClassName list is walked again after every class change).
  var list = [], starts = [];
  function rebuild() {
    list = Array.prototype.slice.call(box.getElementsByClassName("low"));
    starts = list.map(startOf);
  }
  function drop(sp) {
    var k = list.indexOf(sp);
    if (k >= 0) { list.splice(k, 1); starts.splice(k, 1); }
  }

  function count() {
    var n = list.length;
    countEl.textContent = n === 0 ? "Aucun mot douteux restant"
      : n === 1 ? "1 mot douteux restant" : n.toLocaleString("fr-FR") + " mots douteux restants";
  }

  function startOf(sp) { return parseInt(sp.dataset.s, 10); }

  // The doubtful word after (dir 1) or before (dir -1) the one jumped to last, else the one
  // around the player's position: a binary search over the start times.
  function pick(dir) {
    var n = list.length;
    if (!n) return null;
    var at;
    if (current && current.isConnected) at = startOf(current);
    else at = audio.currentTime * 1000 + (dir > 0 ? 0 : PREROLL_MS + 1);
    var lo = 0, hi = n - 1, k = n;  // first index whose start is > at (dir 1) / >= at (dir -1)
    while (lo <= hi) {
      var mid = (lo + hi) >> 1, s = starts[mid];
      if (dir > 0 ? s > at : s >= at) { k = mid; hi = mid - 1; } else lo = mid + 1;
    }
    var i = dir > 0 ? k : k - 1;
    while (i >= 0 && i < n && !list[i].isConnected) i += dir;  // a word gone since (typed over)
    return i >= 0 && i < n ? list[i] : null;
  }

  function caretIn(sp) {
    var r = document.createRange();
    r.selectNodeContents(sp);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
  }

  function land(sp) {
    if (current) current.classList.remove("doubt-cur");
    current = sp;
    sp.classList.add("doubt-cur");
    var text = sp.closest(".text");
    if (text) text.focus({ preventScroll: true });
    caretIn(sp);
    sp.scrollIntoView({ block: "center" });
    var t = Math.max(0, startOf(sp) - PREROLL_MS) / 1000;
    if (audio.readyState >= 1) audio.currentTime = t;
    else audio.addEventListener("loadedmetadata", function () { audio.currentTime = t; }, { once: true });
    audio.play().catch(function () {});
  }

  function jump(dir) {
    var sp = pick(dir);
    if (!sp) { OH.say(dir > 0 ? "Plus de mot douteux après celui-ci." : "Pas de mot douteux avant celui-ci."); return; }
    land(sp);
  }

  function wordAtCaret() {
    var sel = window.getSelection();
    if (!sel.rangeCount || !box.contains(sel.anchorNode)) return current && current.isConnected ? current : null;
    var n = sel.anchorNode;
    var sp = n.nodeType === 1 ? n.closest("span.w") : n.parentElement && n.parentElement.closest("span.w");
    return sp || (current && current.isConnected ? current : null);
  }

  async function confirmWord() {
    var sp = wordAtCaret();
    if (!sp || !sp.classList.contains("low")) { OH.say("Placez le curseur sur un mot douteux pour le confirmer.", true); return; }
    var r = await OH.api("POST", OH.base + "/doubts/confirm", { words: [[startOf(sp), parseInt(sp.dataset.e, 10)]] });
    if (!r.ok) { OH.say("Erreur : " + (r.body && r.body.error), true); return; }
    sp.classList.remove("low");
    sp.removeAttribute("title");
    drop(sp);
    count();
    OH.say("Mot « " + sp.textContent.trim() + " » confirmé.");
  }

  // A doubtful word typed over is no longer doubtful (the saved version gives it no probability).
  box.addEventListener("input", function () {
    var sel = window.getSelection();
    if (!sel.rangeCount) return;
    var n = sel.anchorNode;
    var sp = n && (n.nodeType === 1 ? n.closest && n.closest("span.w") : n.parentElement && n.parentElement.closest("span.w"));
    if (sp && sp.classList.contains("low")) { sp.classList.remove("low"); drop(sp); count(); }
    clearTimeout(settle);  // a doubtful word deleted with its neighbours: counted again after a pause
    settle = setTimeout(function () { rebuild(); count(); }, 400);
  });
  var settle = null;

  new MutationObserver(function () { rebuild(); count(); }).observe(box, { childList: true });  // editor.js rendered (load, refresh, undo)

  document.getElementById("doubt-next").addEventListener("click", function () { jump(1); });
  document.getElementById("doubt-prev").addEventListener("click", function () { jump(-1); });
  var okButton = document.getElementById("doubt-ok");  // absent for a role that may not correct (curator)
  if (okButton) okButton.addEventListener("click", confirmWord);
  document.addEventListener("keydown", function (ev) {
    if (!ev.altKey || ev.ctrlKey || ev.metaKey || ev.shiftKey) return;
    var handled = true;
    if (ev.code === "KeyN") jump(1);  // by key position: AZERTY and macOS Option too
    else if (ev.code === "KeyP") jump(-1);
    else if (okButton && (ev.key === "Enter" || ev.code === "Enter" || ev.code === "NumpadEnter")) confirmWord();
    else handled = false;
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);
  window.OHDoubts = { jump: jump, count: count };  // for the bench (bench/bench_doubts_page.py)
  rebuild();
  count();
})();
