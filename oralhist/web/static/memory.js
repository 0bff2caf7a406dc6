/* The correction memory's suggestions in the editor (accept one, accept all, dismiss; never
   applied without a click), and the delete buttons of the « Mémoire des corrections » page
   (issue 23, item 3). An accepted suggestion is an edit like typing: editor.js records it for
   undo (beforeinput) and saves it as a new version (input). Text goes in with textContent. */
"use strict";
(function () {
  // ------------------------------------------------------------------ the memory page
  var pairs = document.getElementById("pairs");
  if (pairs) {
    pairs.addEventListener("click", async function (ev) {
      var b = ev.target.closest("button.delete-pair");
      if (!b) return;
      var r = await OH.api("POST", "/api/memory/" + encodeURIComponent(b.dataset.pair) + "/delete", {});
      if (!r.ok) { OH.say("Erreur : " + r.body.error, true); return; }
      var row = b.closest("tr");
      var what = row.cells[0].textContent + " → " + row.cells[1].textContent;
      row.remove();
      OH.say("Paire supprimée : " + what + ". Elle ne sera plus proposée.");
    });
    return;
  }

  // ------------------------------------------------------------------ the editor
  var box = document.getElementById("segments"), panel = document.getElementById("suggestions");
  if (!box || !panel || !OH.base) return;
  var list = document.getElementById("sugg-list"), items = [];
  var GONE = "oralhist.dismissed." + OH.iid;
  var dismissed = {};
  try { dismissed = JSON.parse(localStorage.getItem(GONE) || "{}") || {}; } catch (e) { dismissed = {}; }
  function id(it) { return it.start + ":" + it.n + ":" + it.replacement; }
  function norm(t) { return String(t).toLowerCase().replace(/[’‘`]/g, "'").replace(/[^\p{L}\p{N}']+/gu, ""); }

  function spansOf(it) {  // the n word spans of a suggestion in the page now, or null
    var all = box.querySelectorAll("span.w"), first = norm(it.wrong.split(/\s+/)[0]);
    for (var i = 0; i < all.length; i++) {
      if (parseInt(all[i].dataset.s, 10) !== it.start || norm(all[i].textContent) !== first) continue;
      var run = [all[i]];
      for (var k = 1; k < it.n && all[i + k]; k++) run.push(all[i + k]);
      if (run.length === it.n && run.every(function (s) { return s.parentNode === run[0].parentNode; })) return run;
    }
    return null;
  }

  function apply(it) {
    var run = spansOf(it);
    if (!run) return false;
    var text = run[0].closest(".text");
    text.dispatchEvent(new InputEvent("beforeinput", { bubbles: true, cancelable: true, inputType: "insertReplacementText" }));
    run[0].textContent = it.replacement;
    run[0].classList.remove("low");
    run[0].removeAttribute("title");
    if (run.length > 1) {  // the words after the first, and the spaces between them, go
      run[0].dataset.e = run[run.length - 1].dataset.e;
      var r = document.createRange();
      r.setStartAfter(run[0]);
      r.setEndAfter(run[run.length - 1]);
      r.deleteContents();
    }
    text.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertReplacementText" }));
    return true;
  }

  function render() {
    list.textContent = "";
    var live = items.filter(function (it) { return !dismissed[id(it)] && !it.done; });
    panel.hidden = !items.length;
    document.getElementById("sugg-h").textContent = "Suggestions (" + live.length + ")";
    document.getElementById("sugg-all").hidden = !live.length;
    if (!live.length) { list.appendChild(OH.el("li", null, "Aucune suggestion en attente.")); return; }
    live.forEach(function (it) {
      var li = OH.el("li", { class: "sugg", "data-id": id(it) });
      li.appendChild(OH.el("button", { type: "button", class: "time", title: "Écouter le passage" }, OH.hms(it.start)));
      li.appendChild(OH.el("span", { class: "pair" }, "« " + it.wrong + " » → « " + it.replacement + " »"));
      li.appendChild(OH.el("span", { class: "why" }, "(" + it.detail + (it.count ? ", " + OH.plural(it.count, "fois", "fois") : "") + ")"));
      li.appendChild(OH.el("button", { type: "button", class: "accept" }, "Accepter"));
      li.appendChild(OH.el("button", { type: "button", class: "dismiss" }, "Ignorer"));
      li.querySelector(".accept").setAttribute("aria-label", "Accepter : " + it.wrong + " devient " + it.replacement);
      li.querySelector(".dismiss").setAttribute("aria-label", "Ignorer : " + it.wrong);
      li._item = it;
      list.appendChild(li);
    });
  }

  list.addEventListener("click", function (ev) {
    var b = ev.target.closest("button"), li = ev.target.closest("li.sugg");
    if (!b || !li) return;
    var it = li._item;
    if (b.classList.contains("time")) {
      var audio = document.getElementById("audio");
      audio.currentTime = Math.max(0, it.start - 1000) / 1000;
      audio.play().catch(function () {});
      return;
    }
    var next = li.nextElementSibling || li.previousElementSibling;
    if (b.classList.contains("accept")) {
      if (!apply(it)) { OH.say("Ce passage a changé depuis : suggestion écartée.", true); it.done = true; }
      else { it.done = true; OH.say("Suggestion acceptée : « " + it.wrong + " » → « " + it.replacement + " »."); }
    } else if (b.classList.contains("dismiss")) {
      dismissed[id(it)] = 1;
      try { localStorage.setItem(GONE, JSON.stringify(dismissed)); } catch (e) { /* private mode */ }
      OH.say("Suggestion ignorée : « " + it.wrong + " ».");
    }
    var keep = next && next._item ? id(next._item) : null;
    render();
    var again = keep && list.querySelector('li[data-id="' + CSS.escape(keep) + '"] .accept');
    (again || document.getElementById("sugg-h")).focus();
  });
  document.getElementById("sugg-h").setAttribute("tabindex", "-1");
  document.getElementById("sugg-all").addEventListener("click", function () {
    var n = 0;
    items.forEach(function (it) {
      if (it.done || dismissed[id(it)]) return;
      if (apply(it)) n++;
      it.done = true;
    });
    render();
    OH.say(OH.plural(n, "suggestion acceptée", "suggestions acceptées") + ".");
  });

  async function load() {
    var r = await OH.api("GET", OH.base + "/suggestions");
    if (!r.ok) return;
    items = r.body.items;
    render();
  }
  // after the transcript is on the page (editor.js renders it once loaded)
  var seen = new MutationObserver(function () {
    if (box.querySelector(".seg")) { seen.disconnect(); load(); }
  });
  seen.observe(box, { childList: true });
})();
