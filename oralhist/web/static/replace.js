/* « Remplacer partout » (issue 23): preview every occurrence with its context and a play button,
   tick or untick each, apply as one new version per interview, undo in one step. Data goes
   into the page with textContent only. */
"use strict";
(function () {
  var form = document.getElementById("replace-form");
  var list = document.getElementById("occ-list");
  var summary = document.getElementById("occ-summary");
  var applyBtn = document.getElementById("apply");
  var undoBtn = document.getElementById("undo");
  var player = document.getElementById("occ-audio");
  var last = null, batch = null;

  function scope() {
    var r = form.querySelector("input[name=scope]:checked");
    return r ? r.value : "one";
  }
  function urls() {
    if (scope() === "one" && OH.base) return { preview: OH.base + "/replace/preview", apply: OH.base + "/replace/apply" };
    return { preview: "/api/replace/preview", apply: "/api/replace/apply" };
  }
  function body(extra) {
    var d = { find: document.getElementById("find").value, replace: document.getElementById("repl").value };
    var m = document.getElementById("museum");
    if (scope() === "museum" && m) d.museum = m.value;
    for (var k in extra) d[k] = extra[k];
    return d;
  }
  function plural(n, one, many) { return n + " " + (n > 1 ? many : one); }

  function play(o) {
    var src = "/audio/" + encodeURIComponent(o.interview);
    if (player.getAttribute("src") !== src) player.setAttribute("src", src);
    var t = Math.max(0, o.start_ms - 1000) / 1000;
    function go() { player.currentTime = t; player.play().catch(function () {}); }
    if (player.readyState >= 1) go(); else { player.addEventListener("loadedmetadata", go, { once: true }); player.load(); }
  }

  function show(d) {
    last = d;
    list.textContent = "";
    var n = d.total, ivs = new Set(d.occurrences.map(function (o) { return o.interview; })).size;
    summary.textContent = n === 0 ? "Aucune occurrence." : plural(n, "occurrence", "occurrences") + " dans " +
      plural(ivs, "entretien", "entretiens") + (d.occurrences.length < n ? " (" + d.occurrences.length + " affichées)" : "") + ".";
    d.occurrences.forEach(function (o, i) {
      var li = OH.el("li", { class: "occ" });
      var id = "occ-" + i;
      var cb = OH.el("input", { type: "checkbox", id: id, checked: "checked" });
      cb.dataset.key = o.key;
      var label = OH.el("label", { for: id });
      label.appendChild(document.createTextNode(o.interview + " · " + OH.hms(o.start_ms) + " : " + o.before));
      label.appendChild(OH.el("mark", null, o.match));
      label.appendChild(document.createTextNode(" → "));
      label.appendChild(OH.el("span", { class: "to" }, o.replacement || "(supprimé)"));
      label.appendChild(document.createTextNode(o.after));
      var btn = OH.el("button", { type: "button", class: "play" }, "Écouter");
      btn.setAttribute("aria-label", "Écouter l’occurrence " + (i + 1) + " (" + o.interview + ", " + OH.hms(o.start_ms) + ")");
      btn.addEventListener("click", function () { play(o); });
      li.appendChild(cb); li.appendChild(label); li.appendChild(btn);
      list.appendChild(li);
    });
    applyBtn.hidden = n === 0;
    undoBtn.hidden = true;
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var r = await OH.api("POST", urls().preview, body({}));
    if (!r.ok) { OH.say("Erreur : " + (r.body && r.body.error), true); return; }
    OH.say("");
    show(r.body);
  });

  applyBtn.addEventListener("click", async function () {
    if (!last) return;
    var skip = Array.prototype.filter.call(list.querySelectorAll("input[type=checkbox]"), function (c) { return !c.checked; })
      .map(function (c) { return c.dataset.key; });
    var r = await OH.api("POST", urls().apply, body({ find: last.find, replace: last.replace, versions: last.versions, skip: skip }));
    if (!r.ok) { OH.say("Erreur : " + (r.body && r.body.error), true); return; }
    batch = r.body.batch;
    list.textContent = "";
    applyBtn.hidden = true;
    summary.textContent = plural(r.body.replaced, "occurrence remplacée", "occurrences remplacées") + " dans " +
      plural(r.body.interviews, "entretien", "entretiens") + " (une nouvelle version chacun).";
    OH.say(summary.textContent);
    undoBtn.hidden = !batch;
  });

  undoBtn.addEventListener("click", async function () {
    var r = await OH.api("POST", "/api/replace/undo", { batch: batch });
    if (!r.ok) { OH.say("Erreur : " + (r.body && r.body.error), true); return; }
    undoBtn.hidden = true;
    summary.textContent = "Remplacement annulé : " + plural(r.body.interviews, "entretien revenu", "entretiens revenus") + " au texte d’avant.";
    OH.say(summary.textContent);
  });
})();
