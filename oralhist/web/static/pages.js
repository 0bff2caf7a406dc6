/* Index, links, speakers and history pages. */
"use strict";
(function () {
  var page = document.body.getAttribute("data-page");

  if (page === "topics" && document.getElementById("topics")) {  // a role without « index »: no form
    var form = document.getElementById("topics");
    var tpl = document.getElementById("topic-template");
    OH.trackForm(form);
    form.addEventListener("click", function (ev) {
      var t = ev.target, fs = t.closest("fieldset");
      if (t.classList.contains("remove")) fs.remove();
      else if (t.classList.contains("from-playhead")) {
        var input = fs.querySelector("." + t.getAttribute("data-field"));
        input.value = OH.hms(OH.playhead());
        input.dispatchEvent(new Event("change", { bubbles: true }));
        OH.say(t.textContent.replace(" = position de lecture", "") + " du thème : " + input.value + ".");
      } else if (t.classList.contains("listen")) {
        var st = OH.parseHms(fs.querySelector(".start").value);
        if (st !== null) OH.playSpan(st, null);
      }
    });
    // Moving a boundary: the start of a theme is the end of the previous one.
    form.addEventListener("change", function (ev) {
      if (!ev.target.classList.contains("start")) return;
      var fs = ev.target.closest("fieldset");
      var prev = fs.previousElementSibling;
      while (prev && !prev.matches("fieldset.topic")) prev = prev.previousElementSibling;
      if (prev) prev.querySelector(".end").value = ev.target.value;
    });
    document.getElementById("add-topic").addEventListener("click", function () {
      var node = tpl.content.firstElementChild.cloneNode(true);
      var all = form.querySelectorAll("fieldset.topic");
      if (all.length) {
        var last = all[all.length - 1];
        node.querySelector(".start").value = last.querySelector(".end").value;
        node.querySelector(".end").value = last.querySelector(".end").value;
        last.after(node);
      } else {
        tpl.before(node);
      }
      node.querySelector(".title").focus();
    });
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var topics = [];
      var bad = null;
      form.querySelectorAll("fieldset.topic").forEach(function (fs, i) {
        var s = OH.parseHms(fs.querySelector(".start").value), e = OH.parseHms(fs.querySelector(".end").value);
        if (s === null || e === null) bad = "Thème " + (i + 1) + " : temps illisible (hh:mm:ss)";
        topics.push({ start_ms: s, end_ms: e, title: fs.querySelector(".title").value,
                      synopsis: fs.querySelector(".synopsis").value, keywords: fs.querySelector(".keywords").value });
      });
      if (bad) return OH.say(bad, true);
      var base = parseInt(document.body.getAttribute("data-topic-version"), 10) || 0;
      var r = await OH.api("POST", OH.base + "/topics", { base_version: base, topics: topics });
      if (r.ok) {
        document.body.setAttribute("data-topic-version", r.body.version);
        OH.markSaved(form);
        OH.say("Index enregistré (version " + r.body.version + ").");
      } else {
        OH.say((r.status === 409 ? "Conflit : " : "Erreur : ") + r.body.error, true);
      }
    });
  }

  if (page === "links") {
    document.querySelectorAll("tr[data-link]").forEach(function (tr) {
      async function set(status, label) {
        var r = await OH.api("POST", "/api/links/" + tr.getAttribute("data-link"), { status: status });
        if (r.ok) { tr.querySelector(".lstatus").textContent = label; OH.say("Lien " + label + "."); }
        else OH.say("Erreur : " + r.body.error, true);
      }
      if (!tr.querySelector(".accept")) return;  // a role without « links »: no decision buttons
      tr.querySelector(".accept").addEventListener("click", function () { set("accepted", "accepté"); });
      tr.querySelector(".reject").addEventListener("click", function () { set("rejected", "rejeté"); });
    });
    var add = document.getElementById("add-link");
    if (add) {
      OH.trackForm(add);
      add.addEventListener("click", function (ev) {
        if (!ev.target.classList.contains("from-playhead")) return;
        var input = add.elements[ev.target.getAttribute("data-field")];
        input.value = OH.hms(OH.playhead());
        OH.say(ev.target.textContent.replace(" = position de lecture", "") + " du lien : " + input.value + ".");
      });
    }
    if (add) add.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var s = OH.parseHms(add.start.value), e = OH.parseHms(add.end.value);
      if (!add.term.value) { document.getElementById("term-input").focus(); return OH.say("Choisissez un terme dans la liste.", true); }
      if (s === null || e === null) return OH.say("Temps illisible (hh:mm:ss).", true);
      var r = await OH.api("POST", OH.base + "/links",
        { term_id: parseInt(add.term.value, 10), start_ms: s, end_ms: e, quote: add.quote.value });
      if (r.ok) { OH.markSaved(add); OH.say("Lien ajouté."); setTimeout(function () { location.reload(); }, 300); }
      else OH.say("Erreur : " + r.body.error, true);
    });
  }

  if (page === "speakers") {
    document.querySelectorAll("tr[data-speaker]").forEach(function (tr) {
      OH.trackForm(tr);
      var listen = tr.querySelector(".listen");
      if (listen) listen.addEventListener("click", function () {
        OH.playSpan(parseInt(listen.getAttribute("data-start"), 10), parseInt(listen.getAttribute("data-end"), 10));
        OH.say("Écoute de " + (tr.querySelector(".name").value || tr.cells[0].textContent) + " à " +
               OH.hms(parseInt(listen.getAttribute("data-start"), 10)) + ".");
      });
      if (tr.querySelector(".save-speaker")) tr.querySelector(".save-speaker").addEventListener("click", async function () {
        var r = await OH.api("POST", OH.base + "/speakers/" + tr.getAttribute("data-speaker"),
          { name: tr.querySelector(".name").value, role: tr.querySelector(".role").value || null });
        if (r.ok) { OH.markSaved(tr); OH.say("Locuteur enregistré."); }
        else OH.say("Erreur : " + r.body.error, true);
      });
    });
    var mergeForm = document.getElementById("merge");
    if (mergeForm) mergeForm.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var a = mergeForm.elements.from.value, b = mergeForm.elements.into.value;
      if (a === b) return OH.say("Choisissez deux étiquettes différentes.", true);
      var r = await OH.api("POST", OH.base + "/speakers/merge", { from: a, into: b });
      if (r.ok) {
        OH.say(a + " fusionné avec " + b + " : " + OH.plural(r.body.segments, "segment", "segments") +
               " dans la nouvelle version " + r.body.version + ".");
        setTimeout(function () { location.reload(); }, 600);
      } else OH.say("Erreur : " + r.body.error, true);
    });
  }

  if (page === "history") {
    var latest = parseInt(document.body.getAttribute("data-latest"), 10);
    var dlg = document.getElementById("restore-dialog");
    function confirmRestore(v) {  // resolves true when the person chose « Restaurer »
      dlg.querySelectorAll(".v").forEach(function (x) { x.textContent = v; });
      dlg.querySelectorAll(".new").forEach(function (x) { x.textContent = latest + 1; });
      dlg.querySelectorAll(".cur").forEach(function (x) { x.textContent = "version " + latest; });
      dlg.returnValue = "";
      return new Promise(function (resolve) {
        dlg.addEventListener("close", function () { resolve(dlg.returnValue === "ok"); }, { once: true });
        dlg.showModal();
      });
    }
    document.querySelectorAll("tr[data-version] .restore").forEach(function (btn) {
      btn.addEventListener("click", async function () {
        var v = parseInt(btn.closest("tr").getAttribute("data-version"), 10);
        if (!(await confirmRestore(v))) { OH.say("Restauration annulée : rien n’a changé."); btn.focus(); return; }
        var r = await OH.api("POST", OH.base + "/restore", { version: v, base_version: latest });
        if (r.ok) { OH.say("Version " + v + " restaurée comme version " + r.body.version + "."); setTimeout(function () { location.reload(); }, 400); }
        else OH.say((r.status === 409 ? "Conflit : " : "Erreur : ") + r.body.error +
                    (r.body.at ? " (enregistrée le " + OH.when(r.body.at) + ")" : ""), true);
      });
    });
  }

  if (page === "archive") {
    document.querySelectorAll("button.retry").forEach(function (b) {
      b.addEventListener("click", async function () {
        var r = await OH.api("POST", "/api/jobs/" + b.getAttribute("data-job") + "/retry", {});
        if (r.ok) { location.reload(); } else { OH.say(r.body.error, true); }
      });
    });
    var pub = document.getElementById("publish");
    if (pub) pub.addEventListener("click", async function () {
      var r = await OH.api("POST", "/api/publish", {});
      OH.say(r.ok ? "Publication demandée : le site sera à jour dans quelques instants." : r.body.error, !r.ok);
    });
    // progress: refresh the list while a stage is queued or running (every second)
    if (document.querySelector("td.job progress")) {
      setInterval(async function () {
        var r = await OH.api("GET", "/api/interviews");
        if (!r.ok) return;
        r.body.forEach(function (iv) {
          var cell = document.querySelector('td.job[data-interview="' + CSS.escape(iv.id) + '"]');
          if (!cell) return;
          var j = iv.jobs.find(function (x) { return x.status === "running"; }) ||
                  iv.jobs.find(function (x) { return x.status === "failed"; });
          var bar = cell.querySelector("progress"), msg = cell.querySelector(".msg");
          if (j && bar) { bar.value = j.progress || 0; if (msg) msg.textContent = j.message || ""; }
          if ((j && j.status === "failed" && bar) || (!j && bar && !iv.jobs.some(function (x) { return x.status === "queued"; }))) location.reload();
        });
      }, 1000);
    }
  }
})();
