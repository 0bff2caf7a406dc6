/* Review progress, assignment and passage comments in the editor (issue 23, item 5), beside
   editor.js: a « relu » box on each segment, « 42 % relu », a warning before approving a
   version not wholly reviewed, « Confié à », and comments on a passage. Everything from the
   server goes into the page with textContent only (a comment's markup is shown as text). */
"use strict";
(function () {
  var box = document.getElementById("segments");
  var work = document.getElementById("work");
  if (!box || !work || !OH.base) return;
  var marked = new Set(), relu = document.getElementById("relu"), lastRange = null;
  var role = work.getAttribute("data-role");

  function show(p) {
    if (!p) return;
    relu.textContent = p.percent + " % relu";
    relu.title = p.reviewed + " segments relus sur " + p.segments;
    state.progress = p;
  }
  var state = { progress: null, approveOk: false };

  // ------------------------------------------------------------------ « relu » on each segment
  function decorate() {
    box.querySelectorAll(".seg").forEach(function (seg) {
      var head = seg.querySelector(".seg-head");
      if (!head) return;
      var lab = head.querySelector(".relu-box");
      if (!lab) {
        lab = OH.el("label", { class: "relu-box" });
        var cb = OH.el("input", { type: "checkbox", class: "relu-check" });
        lab.appendChild(cb);
        lab.appendChild(document.createTextNode(" relu"));
        head.appendChild(lab);
      }
      var on = marked.has(parseInt(seg.dataset.start, 10));
      lab.querySelector("input").checked = on;
      seg.classList.toggle("is-relu", on);
    });
  }
  new MutationObserver(function (list) {
    if (list.some(function (m) { return m.type === "childList" && m.target === box; })) decorate();
  }).observe(box, { childList: true });

  // a « relu » box is not an edit of the transcript: its input event never reaches editor.js
  box.addEventListener("input", function (ev) { if (ev.target.matches("input.relu-check")) ev.stopPropagation(); }, true);
  box.addEventListener("change", async function (ev) {
    if (!ev.target.matches("input.relu-check")) return;
    ev.stopPropagation();
    var seg = ev.target.closest(".seg"), start = parseInt(seg.dataset.start, 10), on = ev.target.checked;
    var r = await OH.api("POST", OH.base + "/review", { starts: [start], reviewed: on });
    if (!r.ok) { ev.target.checked = !on; OH.say("Erreur : " + r.body.error, true); return; }
    marked = new Set(r.body.marked);
    show(r.body);
    decorate();
    OH.say(on ? "Segment marqué relu (" + r.body.percent + " % relu)." : "Segment non relu (" + r.body.percent + " % relu).");
  }, true);

  // ------------------------------------------------------------------ approval warning
  var approveBtn = document.getElementById("approve"), warn = document.getElementById("approve-warn");
  if (approveBtn) approveBtn.addEventListener("click", function (ev) {
    if (state.approveOk || !state.progress || state.progress.percent >= 100) { state.approveOk = false; return; }
    ev.stopImmediatePropagation();
    ev.preventDefault();
    document.getElementById("approve-warn-text").textContent = "Seulement " + state.progress.percent +
      " % de cette transcription est relu (" + state.progress.reviewed + " segments sur " + state.progress.segments +
      "). Approuver quand même ?";
    warn.hidden = false;
    document.getElementById("approve-anyway").focus();
  }, true);
  document.getElementById("approve-anyway").addEventListener("click", function () {
    warn.hidden = true;
    state.approveOk = true;
    approveBtn.click();
  });
  document.getElementById("approve-cancel").addEventListener("click", function () { warn.hidden = true; approveBtn.focus(); });

  // ------------------------------------------------------------------ assignment
  var assignLab = work.querySelector("label.assign"), assignee = document.getElementById("assignee");
  assignee.addEventListener("change", async function () {
    var r = await OH.api("POST", OH.base + "/assign", { assignee: assignee.value || null });
    if (r.ok) OH.say(r.body.assignee ? "Entretien confié à " + r.body.assignee + "." : "Entretien confié à personne.");
    else OH.say("Erreur : " + r.body.error, true);
  });

  // ------------------------------------------------------------------ comments
  var list = document.getElementById("comment-list"), form = document.getElementById("comment-form"), passage = null;
  document.addEventListener("selectionchange", function () {
    var s = window.getSelection();
    if (s.rangeCount && !s.isCollapsed && box.contains(s.anchorNode)) lastRange = s.getRangeAt(0).cloneRange();
  });
  function renderComments(items) {
    list.textContent = "";
    if (!items.length) { list.appendChild(OH.el("li", null, "Aucun commentaire ouvert.")); return; }
    items.forEach(function (c) {
      var li = OH.el("li", { class: "comment" });
      li.appendChild(OH.el("button", { type: "button", class: "time", "data-start": c.start }, OH.hms(c.start)));
      if (c.quote) li.appendChild(OH.el("q", null, c.quote));
      li.appendChild(OH.el("span", { class: "body" }, c.body));
      li.appendChild(OH.el("span", { class: "by" }, "— " + c.author));
      var done = OH.el("button", { type: "button", class: "resolve", "data-id": c.id }, "Résolu");
      li.appendChild(done);
      list.appendChild(li);
    });
  }
  list.addEventListener("click", async function (ev) {
    var t = ev.target.closest("button");
    if (!t) return;
    if (t.classList.contains("time")) {
      var audio = document.getElementById("audio");
      audio.currentTime = parseInt(t.dataset.start, 10) / 1000;
      audio.play().catch(function () {});
    } else if (t.classList.contains("resolve")) {
      var r = await OH.api("POST", OH.base + "/comments/" + t.dataset.id + "/resolve", {});
      if (r.ok) { OH.say("Commentaire marqué résolu."); load(); } else OH.say("Erreur : " + r.body.error, true);
    }
  });
  document.getElementById("comment-sel").addEventListener("click", function () {
    var spans = Array.prototype.slice.call(box.querySelectorAll("span.w"));
    var hit = lastRange ? spans.filter(function (sp) { return sp.isConnected && lastRange.intersectsNode(sp); }) : [];
    if (!hit.length) {  // no selection: the segment being heard
      var audio = document.getElementById("audio"), t = audio.currentTime * 1000;
      hit = spans.filter(function (sp) { return parseInt(sp.dataset.s, 10) <= t; }).slice(-1);
      if (!hit.length) hit = spans.slice(0, 1);
    }
    if (!hit.length) { OH.say("Sélectionnez d’abord un passage du texte.", true); return; }
    passage = { start: parseInt(hit[0].dataset.s, 10), end: parseInt(hit[hit.length - 1].dataset.e, 10),
                quote: (lastRange && lastRange.toString().trim()) || hit.map(function (h) { return h.textContent; }).join(" ") };
    document.getElementById("comment-passage").textContent = "Passage à " + OH.hms(passage.start) + " : « " +
      passage.quote.slice(0, 200) + " »";
    form.hidden = false;
    document.getElementById("comment-body").focus();
  });
  document.getElementById("comment-cancel").addEventListener("click", function () { form.hidden = true; });
  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var body = document.getElementById("comment-body");
    var r = await OH.api("POST", OH.base + "/comments", { start: passage.start, end: passage.end, quote: passage.quote, body: body.value });
    if (!r.ok) { OH.say("Erreur : " + r.body.error, true); return; }
    body.value = "";
    form.hidden = true;
    OH.say("Commentaire ajouté.");
    load();
  });

  async function load() {
    var r = await OH.api("GET", OH.base + "/review");
    if (!r.ok) { relu.textContent = ""; return; }
    marked = new Set(r.body.marked);
    show(r.body.progress);
    decorate();
    renderComments(r.body.comments);
    if (role === "editor" || role === "admin") {
      assignee.textContent = "";
      assignee.appendChild(OH.el("option", { value: "" }, "personne"));
      r.body.assignable.forEach(function (n) {
        var o = OH.el("option", { value: n }, n);
        if (n === r.body.assignee) o.selected = true;
        assignee.appendChild(o);
      });
      assignLab.hidden = false;
    } else if (r.body.assignee) {
      relu.textContent += " — confié à " + r.body.assignee;
    }
  }
  OH.reviewLoad = load;
  load();
})();
