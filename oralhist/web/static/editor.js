/* The transcript editor: audio player synced with the words, edit in place, split/merge,
   speakers, shortcuts (like oTranscribe), autosave as new versions, conflict detection.
   Words and all other data go into the page with textContent only. */
"use strict";
(function () {
  var audio = document.getElementById("audio");
  var box = document.getElementById("segments");
  // a role that may not correct (curator) reads the transcript: nothing editable, no save
  var readonly = document.body.getAttribute("data-readonly") === "1";
  var STATUS_FR = { machine: "à relire", corrected: "corrigée", approved: "approuvée" };
  var ROLE_FR = { narrator: "narrateur", interviewer: "enquêteur", other: "autre" };
  var state = { version: null, speakers: [], low: 50, dirty: false, saving: false, again: false,
                conflict: false, timer: null, pendingSeek: null, lastSave: 0 };
  var starts = [], spans = [], cur = -1, lastRange = null, reindexTimer = null;
  // Undo/redo: a stack of steps holding the segments a change touched (deep clones, never
  // re-parsed markup).
  var UNDO_LIMIT = 100, TYPING_PAUSE_MS = 800;
  var undo = { past: [], future: [], typingAt: 0, typingSeg: null };

  // ------------------------------------------------------------------ loading and rendering
  async function load() {
    var r = await OH.api("GET", OH.base + "/transcript");
    if (!r.ok) { box.textContent = "Erreur : " + (r.body && r.body.error); return; }
    render(r.body);
    var m = /#t=(\d+)/.exec(location.hash);
    if (m) seek(parseInt(m[1], 10), false);
  }

  function render(d) {
    state.version = d.version;
    state.speakers = d.speakers;
    state.low = d.low;
    showVersion(d.version, d.status);
    var before = box.querySelectorAll(".seg").length;
    box.textContent = "";
    var frag = document.createDocumentFragment();
    d.segments.forEach(function (sg) { frag.appendChild(segmentEl(sg)); });
    box.appendChild(frag);
    if (!d.segments.length) {  // issue 21: a recording with no speech is said so, not a blank page
      box.appendChild(OH.el("p", { "class": "no-speech", id: "no-speech" },
        "Aucune parole détectée dans cet enregistrement : la transcription est vide. Écoutez-le pour " +
        "vérifier (silence, musique, son coupé) ; rien n’est à corriger ici."));
    }
    box.setAttribute("data-version", d.version);
    state.dirty = false;
    reindex();
    // the stacks survive a refresh after saving (same segments, new word times), not a reshaping
    if (before !== d.segments.length || !undo.loaded) { undo.past = []; undo.future = []; }
    undo.loaded = true;
    undo.typingAt = 0;
  }

  // ------------------------------------------------------------------ undo / redo
  function caretPoint() {  // [segment index, characters before the caret in its text]
    var s = window.getSelection();
    if (!s.rangeCount || !box.contains(s.anchorNode)) return null;
    var text = s.anchorNode.nodeType === 1 ? s.anchorNode.closest(".text") : s.anchorNode.parentNode.closest(".text");
    if (!text) return null;
    var r = document.createRange();
    r.setStart(text, 0);
    r.setEnd(s.anchorNode, s.anchorOffset);
    return [indexOf(text.closest(".seg")), r.toString().length];
  }
  function placeCaret(pt) {
    if (!pt) return;
    var seg = box.children[pt[0]];
    if (!seg) return;
    var text = seg.querySelector(".text"), left = pt[1];
    var walker = document.createTreeWalker(text, NodeFilter.SHOW_TEXT), n, node = null, off = 0;
    while ((n = walker.nextNode())) {
      if (left <= n.data.length) { node = n; off = left; break; }
      left -= n.data.length;
    }
    text.focus();
    var r = document.createRange();
    if (node) r.setStart(node, off); else r.selectNodeContents(text), r.collapse(false);
    r.collapse(true);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
  }
  // A step is {at, before, count, caret}: the segments [at, at+count) of now were `before`
  // (clones of whole segments, with their speaker) — so a step costs one or two segments,
  // not the whole transcript, and undoing it swaps them back (and records the inverse step).
  function grab(at, n) {
    var out = [];
    for (var i = 0; i < n && box.children[at + i]; i++) {
      var seg = box.children[at + i];
      out.push({ node: seg.cloneNode(true), speaker: seg.querySelector("select.speaker").value });
    }
    return out;
  }
  function put(at, count, items) {
    for (var i = 0; i < count && box.children[at]; i++) box.children[at].remove();
    var ref = box.children[at] || null;
    items.forEach(function (x) {
      var node = x.node.cloneNode(true);
      var sel = node.querySelector("select.speaker");
      sel.value = x.speaker;
      sel.dataset.prev = x.speaker;
      box.insertBefore(node, ref);
    });
  }
  function indexOf(seg) { return Array.prototype.indexOf.call(box.children, seg); }
  // Called just BEFORE every change: typing (beforeinput), split, merge (n = 2), speaker.
  // Typing in one segment without a pause is one step.
  function remember(kind, seg, n, fix) {
    var now = Date.now(), typing = kind === "typing";
    if (!(typing && undo.typingSeg === seg && now - undo.typingAt < TYPING_PAUSE_MS)) {
      var at = indexOf(seg);
      var step = { at: at, before: grab(at, n), count: { split: 2, merge: 1 }[kind] || 1, caret: caretPoint() };
      if (fix) fix(step.before[0]);
      undo.past.push(step);
      if (undo.past.length > UNDO_LIMIT) undo.past.shift();
    }
    undo.typingAt = typing ? now : 0;
    undo.typingSeg = typing ? seg : null;
    undo.future = [];
  }
  function stepBack(redo) {
    var from = redo ? undo.future : undo.past, to = redo ? undo.past : undo.future;
    if (!from.length) { OH.say(redo ? "Rien à rétablir." : "Rien à annuler."); return; }
    var step = from.pop();
    to.push({ at: step.at, before: grab(step.at, step.count), count: step.before.length, caret: caretPoint() });
    put(step.at, step.count, step.before);
    undo.typingAt = 0;
    placeCaret(step.caret);  // (the word index is rebuilt by markDirty, as after typing)
    OH.say(redo ? "Modification rétablie." : "Modification annulée.");
    markDirty();
  }

  function showVersion(v, status) {
    document.getElementById("version").textContent = "v" + v;
    if (status) document.getElementById("vstatus").textContent = STATUS_FR[status] || status;
  }

  function speakerSelect(selected) {
    var label = OH.el("label", { class: "spk" });
    label.appendChild(document.createTextNode("Locuteur "));
    var sel = OH.el("select", { class: "speaker" });
    if (readonly) sel.disabled = true;
    sel.appendChild(OH.el("option", { value: "" }, "—"));
    state.speakers.forEach(function (sp) {
      var name = sp[2] || OH.voice(sp[1]);
      var o = OH.el("option", { value: sp[0] }, name + (sp[3] ? " (" + (ROLE_FR[sp[3]] || sp[3]) + ")" : ""));
      if (sp[0] === selected) o.selected = true;
      sel.appendChild(o);
    });
    sel.dataset.prev = selected === null || selected === undefined ? "" : String(selected);
    label.appendChild(sel);
    return label;
  }

  function segmentEl(sg) {
    var wrap = OH.el("div", { class: "seg" });
    wrap.dataset.start = sg[0];
    var head = OH.el("div", { class: "seg-head" });
    head.appendChild(OH.el("button", { type: "button", class: "time", title: "Lire à partir de " + OH.hms(sg[0]) }, OH.hms(sg[0])));
    head.appendChild(speakerSelect(sg[2]));
    if (!readonly) {
      head.appendChild(OH.el("button", { type: "button", class: "split", "aria-keyshortcuts": "Control+Enter" }, "Couper au curseur"));
      head.appendChild(OH.el("button", { type: "button", class: "merge" }, "Fusionner avec le suivant"));
    }
    var text = OH.el("div", { class: "text", contenteditable: readonly ? "false" : "true", role: "textbox", "aria-readonly": readonly ? "true" : null, "aria-multiline": "true",
                              spellcheck: "true", lang: "fr", "aria-label": "Texte du segment à " + OH.hms(sg[0]) });
    if (sg[4] && sg[4].length) {
      sg[4].forEach(function (w, k) {
        if (k) text.appendChild(document.createTextNode(" "));
        // issue 23: w[4] is the project's doubt rule (doubts.js jumps, confirms and counts them);
        // 31,000 words in three hours: plain DOM calls, no helper per word
        var low = w.length > 4 ? w[4] === 1 : w[3] < state.low;
        var s = document.createElement("span");
        s.className = low ? "w low" : "w";
        s.textContent = w[2];
        s.setAttribute("data-s", w[0]);
        s.setAttribute("data-e", w[1]);
        if (low) s.title = "Mot douteux (confiance " + w[3] + " %) : Alt+Entrée pour le confirmer";
        text.appendChild(s);
      });
    } else {
      text.textContent = sg[3];
    }
    wrap.appendChild(head);
    wrap.appendChild(text);
    return wrap;
  }

  function reindex() {
    spans = Array.prototype.slice.call(box.querySelectorAll("span.w"));
    starts = spans.map(function (s) { return parseInt(s.dataset.s, 10); });
    cur = -1;
    highlight();
  }

  // ------------------------------------------------------------------ player
  function seek(ms, play) {
    if (audio.readyState < 1) {
      state.pendingSeek = ms;
      if (play) audio.play().catch(function () {});
      return;
    }
    audio.currentTime = ms / 1000;
    if (play) audio.play().catch(function () {});
    highlight();
  }
  audio.addEventListener("loadedmetadata", function () {
    if (state.pendingSeek !== null) { audio.currentTime = state.pendingSeek / 1000; state.pendingSeek = null; }
  });
  function toggle() { if (audio.paused) audio.play().catch(function () {}); else audio.pause(); }
  function setRate(r) {
    audio.playbackRate = Math.min(2.5, Math.max(0.5, Math.round(r * 10) / 10));
    document.getElementById("rate").textContent = audio.playbackRate.toFixed(1);
  }
  function jump(sec) { audio.currentTime = Math.max(0, audio.currentTime + sec); highlight(); }

  function highlight() {
    var t = audio.currentTime * 1000, lo = 0, hi = starts.length - 1, k = -1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (starts[mid] <= t) { k = mid; lo = mid + 1; } else hi = mid - 1; }
    if (k === cur) return;
    if (cur >= 0 && spans[cur]) spans[cur].classList.remove("cur");
    cur = k;
    if (k >= 0 && spans[k] && spans[k].isConnected) {
      spans[k].classList.add("cur");
      if (!audio.paused && !box.contains(document.activeElement)) spans[k].scrollIntoView({ block: "nearest" });
    }
  }
  function loop() { highlight(); if (!audio.paused) requestAnimationFrame(loop); }
  audio.addEventListener("play", function () { requestAnimationFrame(loop); });
  audio.addEventListener("seeked", highlight);
  audio.addEventListener("timeupdate", highlight);

  // ------------------------------------------------------------------ editing
  // Autosave: 4 s after the last change, at most one version every 30 s (each save is a
  // full new version of the transcript; Ctrl+S saves at once).
  var AUTOSAVE_IDLE_MS = 4000, AUTOSAVE_GAP_MS = 30000;
  function autosave() {
    var wait = state.lastSave + AUTOSAVE_GAP_MS - Date.now();
    if (wait > 0) { state.timer = setTimeout(autosave, wait); return; }
    save(false);
  }
  function markDirty() {
    state.dirty = true;
    clearTimeout(state.timer);
    if (readonly) { state.dirty = false; return; }
    if (document.getElementById("autosave").checked && !state.conflict) state.timer = setTimeout(autosave, AUTOSAVE_IDLE_MS);
    clearTimeout(reindexTimer);
    reindexTimer = setTimeout(reindex, 400);
  }

  document.addEventListener("selectionchange", function () {
    var s = window.getSelection();
    if (s.rangeCount && box.contains(s.anchorNode)) lastRange = s.getRangeAt(0).cloneRange();
  });

  function split(seg) {
    var text = seg.querySelector(".text");
    var now = window.getSelection();  // the caret now, else where it was before a button took the focus
    var r = now.rangeCount && text.contains(now.anchorNode) ? now.getRangeAt(0).cloneRange()
      : lastRange && text.contains(lastRange.startContainer) ? lastRange : null;
    if (!r) { OH.say("Placez d’abord le curseur dans le texte du segment à couper.", true); return; }
    remember("split", seg, 1);
    var tail = document.createRange();
    tail.setStart(r.startContainer, r.startOffset);
    tail.setEnd(text, text.childNodes.length);
    var frag = tail.extractContents();
    var first = frag.querySelector ? frag.querySelector("span.w") : null;
    var startMs = first ? parseInt(first.dataset.s, 10) : parseInt(seg.dataset.start, 10);
    var sel = seg.querySelector("select.speaker");
    var spk = sel.value ? parseInt(sel.value, 10) : null;
    var ns = segmentEl([startMs, startMs, spk, "", []]);
    ns.querySelector(".text").appendChild(frag);
    seg.after(ns);
    ns.querySelector(".text").focus();
    OH.say("Segment coupé.");
    markDirty();
  }

  function merge(seg) {
    var next = seg.nextElementSibling;
    if (!next) { OH.say("Pas de segment suivant.", true); return; }
    remember("merge", seg, 2);
    var a = seg.querySelector(".text"), b = next.querySelector(".text");
    a.appendChild(document.createTextNode(" "));
    while (b.firstChild) a.appendChild(b.firstChild);
    next.remove();
    OH.say("Segments fusionnés.");
    markDirty();
  }

  box.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t.classList.contains("w")) { seek(parseInt(t.dataset.s, 10), true); return; }
    var seg = t.closest(".seg");
    if (!seg) return;
    if (t.classList.contains("time")) seek(parseInt(seg.dataset.start, 10), true);
    else if (t.classList.contains("split")) split(seg);
    else if (t.classList.contains("merge")) merge(seg);
  });
  box.addEventListener("input", markDirty);
  box.addEventListener("change", function (ev) {
    var sel = ev.target;
    if (!sel.matches("select.speaker")) return;
    remember("speaker", sel.closest(".seg"), 1, function (before) { before.speaker = sel.dataset.prev || ""; });
    sel.dataset.prev = sel.value;
    markDirty();
  });
  // the browser's own undo (Edit menu) knows nothing of split/merge: ours replaces it
  box.addEventListener("beforeinput", function (ev) {
    if (ev.inputType === "historyUndo" || ev.inputType === "historyRedo") {
      ev.preventDefault();
      stepBack(ev.inputType === "historyRedo");
      return;
    }
    if (ev.target.closest && ev.target.closest(".text")) remember("typing", ev.target.closest(".seg"), 1);
  });
  box.addEventListener("keydown", function (ev) {
    if (!ev.target.classList.contains("text") || ev.key !== "Enter") return;
    ev.preventDefault();  // one paragraph per segment: Enter never adds a line
    if (ev.ctrlKey || ev.metaKey) split(ev.target.closest(".seg"));
  });
  box.addEventListener("paste", function (ev) {  // plain text only
    if (!ev.target.closest(".text")) return;
    ev.preventDefault();
    var text = (ev.clipboardData || window.clipboardData).getData("text/plain").replace(/\s+/g, " ");
    document.execCommand("insertText", false, text);
  });
  box.addEventListener("drop", function (ev) { if (ev.target.closest(".text")) ev.preventDefault(); });

  // ------------------------------------------------------------------ saving
  function collect() {
    return Array.prototype.map.call(box.querySelectorAll(".seg"), function (seg) {
      var sel = seg.querySelector("select.speaker");
      return { text: seg.querySelector(".text").textContent.replace(/\s+/g, " ").trim(),
               speaker_id: sel.value ? parseInt(sel.value, 10) : null };
    });
  }

  async function save(manual) {
    if (state.conflict) { OH.say("Conflit non résolu : rechargez la page avant d’enregistrer.", true); return; }
    if (state.saving) { state.again = true; return; }
    if (!state.dirty && !manual) return;
    clearTimeout(state.timer);
    state.saving = true;
    state.dirty = false;
    OH.say("Enregistrement…");
    var r = await OH.api("POST", OH.base + "/transcript", { base_version: state.version, segments: collect() });
    state.saving = false;
    if (r.ok) {
      var b = r.body;
      state.lastSave = Date.now();
      state.version = b.version;
      box.setAttribute("data-version", b.version);
      if (b.unchanged) { OH.say("Aucun changement à enregistrer (version " + b.version + ")."); showVersion(b.version); }
      else {
        showVersion(b.version, "corrected");
        var msg = "Enregistré : version " + b.version + " — " + OH.plural(b.kept, "mot gardé", "mots gardés") +
          " avec leur temps, " + OH.plural(b.changed, "modifié", "modifiés") + ", " + OH.plural(b.inserted, "ajouté", "ajoutés") +
          ", " + OH.plural(b.deleted, "supprimé", "supprimés") + ".";
        if (b.unplaced.length) msg += " Sans place dans le temps : " + b.unplaced.join(" ");
        OH.say(msg);
        if (!state.dirty && !box.contains(document.activeElement)) refresh();
      }
    } else if (r.status === 409) {
      state.conflict = true;
      state.dirty = true;
      OH.say("Conflit : " + r.body.error + (r.body.at ? " (enregistrée le " + OH.when(r.body.at) + ")" : ""), true);
      var btn = OH.el("button", { type: "button", id: "reload" }, "Recharger la dernière version");
      btn.addEventListener("click", function () { location.reload(); });
      document.getElementById("status").appendChild(document.createTextNode(" "));
      document.getElementById("status").appendChild(btn);
    } else {
      state.dirty = true;
      OH.say("Erreur : " + (r.body && r.body.error), true);
    }
    if (state.again) { state.again = false; if (state.dirty) save(false); }
  }

  async function refresh() {  // new word times after a save, when nobody is typing
    var y = window.scrollY;
    var r = await OH.api("GET", OH.base + "/transcript");
    if (r.ok && !state.dirty && r.body.version === state.version) { render(r.body); window.scrollTo(0, y); }
  }

  async function approve() {
    if (state.dirty) await save(true);
    if (state.conflict) return;
    var r = await OH.api("POST", OH.base + "/approve", { version: state.version });
    if (r.ok) { showVersion(r.body.version, "approved"); OH.say("Version " + r.body.version + " approuvée : elle sera publiée."); }
    else OH.say("Erreur : " + r.body.error, true);
  }

  function linkSelection() {
    var s = window.getSelection();
    if (!s.rangeCount || s.isCollapsed || !box.contains(s.anchorNode)) {
      OH.say("Sélectionnez d’abord un passage du texte.", true); return;
    }
    var range = s.getRangeAt(0);
    var hit = spans.filter(function (sp) { return sp.isConnected && range.intersectsNode(sp); });
    if (!hit.length) { OH.say("La sélection ne contient aucun mot minuté.", true); return; }
    var q = new URLSearchParams({ start: OH.hms(parseInt(hit[0].dataset.s, 10)),
                                  end: OH.hms(parseInt(hit[hit.length - 1].dataset.e, 10) + 999),
                                  quote: s.toString().replace(/\s+/g, " ").trim() });
    location.href = "/i/" + encodeURIComponent(OH.iid) + "/links?" + q.toString() + "#add";
  }

  // ------------------------------------------------------------------ toolbar and shortcuts
  document.getElementById("play").addEventListener("click", toggle);
  document.getElementById("back").addEventListener("click", function () { jump(-5); });
  document.getElementById("fwd").addEventListener("click", function () { jump(5); });
  document.getElementById("faster").addEventListener("click", function () { setRate(audio.playbackRate + 0.1); });
  document.getElementById("slower").addEventListener("click", function () { setRate(audio.playbackRate - 0.1); });
  // controls a role may not use are not in the page (the server still checks)
  if (document.getElementById("save")) document.getElementById("save").addEventListener("click", function () { save(true); });
  if (document.getElementById("approve")) document.getElementById("approve").addEventListener("click", approve);
  if (document.getElementById("linksel")) document.getElementById("linksel").addEventListener("click", linkSelection);

  // Audio shortcuts never take a key that moves, selects or edits text: Ctrl+arrows,
  // Ctrl+Shift+arrows, Home/End, Ctrl+Z/Y stay the text field's own. Alt+J/K/L (by key
  // position, so AZERTY and macOS Option work too) drive the player, as in video players.
  document.addEventListener("keydown", function (ev) {
    var ctrl = ev.ctrlKey || ev.metaKey;
    var alt = ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey;
    var key = (ev.key || "").toLowerCase();
    var handled = true;
    if (ev.key === "Escape" || (ctrl && !ev.shiftKey && (ev.key === " " || ev.code === "Space"))) toggle();
    else if (alt && ev.code === "KeyK") toggle();
    else if (alt && ev.code === "KeyJ") jump(-5);
    else if (alt && ev.code === "KeyL") jump(5);
    else if (alt && ev.code === "KeyU") setRate(audio.playbackRate - 0.1);
    else if (alt && ev.code === "KeyI") setRate(audio.playbackRate + 0.1);
    else if (ctrl && !ev.altKey && key === "s") { if (!readonly) save(true); }
    else if (ctrl && !ev.altKey && ((key === "z" && ev.shiftKey) || (key === "y" && !ev.shiftKey))) stepBack(true);
    else if (ctrl && !ev.altKey && key === "z") stepBack(false);
    else handled = false;
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);

  window.addEventListener("beforeunload", function (ev) {
    if (state.dirty && !state.conflict) { ev.preventDefault(); ev.returnValue = ""; }
  });

  load();
})();
