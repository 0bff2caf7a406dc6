/* Task pages: consent and redactions, corrections by Word, vocabulary import, publishing.
   Server data reaches the page through textContent / value only (never innerHTML). */
"use strict";
(function () {
  var page = document.body.getAttribute("data-page");

  async function upload(url, form) {
    var meta = document.querySelector('meta[name="csrf"]');
    var r = await fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin",
                               headers: { "X-CSRF-Token": meta ? meta.content : "" } });
    var body;
    try { body = await r.json(); } catch (e) { body = { error: "réponse illisible (" + r.status + ")" }; }
    return { ok: r.ok, status: r.status, body: body };
  }

  function showResult(r, lines) {
    var box = document.getElementById("result");
    box.textContent = "";
    box.className = "result" + (r.ok ? " ok" : " error");
    box.setAttribute("role", r.ok ? "status" : "alert");
    box.appendChild(OH.el("p", null, r.ok ? r.body.message : r.body.error));
    (lines || []).forEach(function (t) { box.appendChild(OH.el("p", null, t)); });
  }

  // ------------------------------------------------------------------ consent
  // issue 21: a French file picker (name of the file chosen), and the signed consent form
  document.querySelectorAll(".file-pick").forEach(function (box) {
    var input = box.querySelector("input[type=file]"), shown = box.querySelector(".file-name");
    if (!input || !shown) return;
    var none = shown.textContent;
    input.addEventListener("change", function () { shown.textContent = input.files.length ? input.files[0].name : none; });
  });
  var formUpload = document.getElementById("form-upload");
  if (formUpload) formUpload.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var r = await upload(OH.base + "/consent/formulaire", formUpload);
    if (!r.ok) { OH.say(r.body.error, true); return; }
    sessionStorage.setItem("oh-flash", r.body.message);
    location.reload();
  });
  var flashed = sessionStorage.getItem("oh-flash");
  if (flashed && page === "consent") { sessionStorage.removeItem("oh-flash"); OH.say(flashed); }

  if (page === "consent") {
    var base = OH.base, audio = document.getElementById("audio"), canvas = document.getElementById("wave");
    var state = null, peaks = null;

    function draw() {
      if (!canvas || !canvas.getContext) return;
      var ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
      ctx.clearRect(0, 0, w, h);
      var dur = (peaks && peaks.duration_ms) || (state && state.duration_ms) || 0;
      if (dur && state) {
        ctx.fillStyle = "#f5c2bd";
        state.redactions.forEach(function (r) {
          ctx.fillRect(w * r.start_ms / dur, 0, Math.max(1, w * (r.end_ms - r.start_ms) / dur), h);
        });
      }
      if (peaks) {
        ctx.fillStyle = "#0b5cad";
        var n = peaks.peaks.length, bw = w / n;
        peaks.peaks.forEach(function (p, i) {
          var bh = Math.max(1, h * p / 100);
          ctx.fillRect(i * bw, (h - bh) / 2, Math.max(1, bw - 0.5), bh);
        });
      }
      if (dur && audio) {
        ctx.fillStyle = "#1d1d1f";
        ctx.fillRect(w * (audio.currentTime * 1000) / dur, 0, 2, h);
      }
    }

    function render(data) {
      state = data;
      document.getElementById("effect").textContent = data.effect;
      var tb = document.querySelector("#redactions tbody");
      tb.textContent = "";
      data.redactions.forEach(function (r) {
        var tr = OH.el("tr");
        tr.setAttribute("data-redaction", r.id);
        tr.appendChild(OH.el("td", null, OH.position(r.start_ms)));
        tr.appendChild(OH.el("td", null, OH.position(r.end_ms)));
        tr.appendChild(OH.el("td", null, r.reason || ""));
        tr.appendChild(OH.el("td", null, r.created_by || ""));
        var td = OH.el("td"), b = OH.el("button", { type: "button", class: "unredact" },
                                          "Rétablir " + OH.position(r.start_ms) + "–" + OH.position(r.end_ms));
        b.addEventListener("click", function () { change({ unredact: [r.id] }, "Passage rétabli."); });
        td.appendChild(b);
        tr.appendChild(td);
        tb.appendChild(tr);
      });
      var n = data.redactions.length;
      document.getElementById("redactions-caption").textContent =
        n === 0 ? "Aucun passage retiré" : n + (n < 2 ? " passage retiré" : " passages retirés");
      var form = document.getElementById("consent-form");
      form.querySelectorAll('input[name="scope"]').forEach(function (i) { i.checked = i.value === data.scope; });
      form.elements.embargo_until.value = data.embargo_until || "";
      form.elements.anonymise.checked = !!data.anonymise;
      form.elements.pseudonym.value = data.pseudonym || "";
      if (form.elements.listing) form.elements.listing.checked = data.listing === "catalogue";
      portraitBox(data);
      draw();
    }

    // issue 26: the portrait box, never offered for an anonymised interview (nor before a picture is stored)
    function portraitBox(data) {
      var box = document.getElementById("portrait"), why = document.getElementById("portrait-why");
      if (!box) return;
      var anon = document.getElementById("consent-form").elements.anonymise.checked;
      box.checked = !!data.portrait && !anon;
      box.disabled = anon || !data.portrait_stored;
      why.textContent = anon ? "Entretien anonymisé : le portrait du narrateur n’est jamais publié."
        : data.portrait_stored ? "" : "Aucune photographie du narrateur n’est encore enregistrée (section « Portrait du narrateur »).";
    }
    document.getElementById("consent-form").elements.anonymise.addEventListener("change", function () {
      if (state) portraitBox(state);
    });
    var portraitUpload = document.getElementById("portrait-upload");
    if (portraitUpload) portraitUpload.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var r = await upload(base + "/consent/portrait", portraitUpload);
      if (!r.ok) { OH.say(r.body.error, true); return; }
      render(r.body);
      OH.say(r.body.message);
    });

    async function change(data, done) {
      var r = await OH.api("POST", base + "/consent", data);
      if (r.ok) { render(r.body); OH.say(done + " " + r.body.effect); }
      else OH.say(r.body.error, true);
      return r.ok;
    }

    (async function load() {
      var r = await OH.api("GET", base + "/consent");
      if (r.ok) render(r.body); else OH.say(r.body.error, true);
      var p = await OH.api("GET", base + "/peaks?n=" + (canvas ? canvas.width : 800));
      if (p.ok) { peaks = p.body; draw(); if (canvas) canvas.dataset.ready = "1"; }
    })();

    document.getElementById("consent-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = ev.target, scope = f.querySelector('input[name="scope"]:checked');
      var data = { scope: scope ? scope.value : null, embargo_until: f.elements.embargo_until.value || "",
                   anonymise: f.elements.anonymise.checked };
      if (f.elements.pseudonym.value.trim()) data.pseudonym = f.elements.pseudonym.value.trim();
      if (f.elements.listing) data.listing = f.elements.listing.checked ? "catalogue" : "none";
      if (f.elements.portrait && !f.elements.portrait.disabled) data.portrait = f.elements.portrait.checked;
      if (f.elements.why && f.elements.why.value.trim()) data.why = f.elements.why.value.trim();
      change(data, "Consentement enregistré.");
    });
    document.getElementById("withdraw").addEventListener("click", function () {
      if (!window.confirm("Le narrateur retire son consentement : l’entretien reste dans l’archive mais sera retiré du " +
                          "site public à la prochaine publication. Continuer ?")) return;
      var why = window.prompt("Motif du retrait (inscrit au journal) :", "") || "";
      change({ withdraw: true, why: why }, "Retrait du consentement enregistré.");
    });
    function playhead(id) {
      document.getElementById(id).value = OH.hms(Math.round(audio.currentTime * 1000)) +
        "." + String(Math.round(audio.currentTime * 1000) % 1000).padStart(3, "0");
    }
    document.getElementById("set-start").addEventListener("click", function () { playhead("r-start"); });
    document.getElementById("set-end").addEventListener("click", function () { playhead("r-end"); });
    document.getElementById("redact-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var f = ev.target, a = OH.parseHms(f.elements.start.value), b = OH.parseHms(f.elements.end.value);
      if (a === null || b === null) { OH.say("Début et fin : un temps hh:mm:ss est attendu.", true); return; }
      if (await change({ redact: [{ start_ms: a, end_ms: b, reason: f.elements.reason.value }] }, "Passage retiré.")) f.reset();
    });
    if (canvas) canvas.addEventListener("click", function (ev) {
      var dur = (peaks && peaks.duration_ms) || (state && state.duration_ms);
      if (!dur || !audio) return;
      var rect = canvas.getBoundingClientRect();
      audio.currentTime = dur / 1000 * (ev.clientX - rect.left) / rect.width;
      draw();
    });
    if (audio) audio.addEventListener("timeupdate", draw);
  }

  // ------------------------------------------------------------------ corrections by Word
  if (page === "word") {
    document.getElementById("corrections-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var r = await upload(OH.base + "/corrections", ev.target);
      var notes = r.ok ? (r.body.notes || []) : [];
      showResult(r, notes);
      if (r.ok) ev.target.reset();
    });
  }

  // ------------------------------------------------------------------ vocabulary import
  if (page === "vocab") {
    document.getElementById("vocab-form").addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var r = await upload("/api/vocab", ev.target);
      showResult(r, r.ok ? (r.body.warnings || []) : []);
      if (r.ok) {
        document.querySelectorAll("#vocab-counts tr[data-kind]").forEach(function (tr) {
          tr.querySelector(".n").textContent = r.body.terms[tr.getAttribute("data-kind")] || 0;
        });
      }
    });
  }

  // ------------------------------------------------------------------ publish
  if (page === "publish") {
    var btn = document.getElementById("publish-now"), bar = document.getElementById("publish-progress");
    var line = document.getElementById("publish-job");
    async function poll() {
      var r = await OH.api("GET", "/api/publish");
      if (!r.ok) { OH.say(r.body.error, true); return; }
      var j = r.body.job;
      if (j && (j.status === "queued" || j.status === "running")) {
        bar.hidden = false;
        bar.value = j.progress || 0;
        line.textContent = "Publication " + j.status_fr + (j.message ? " : " + j.message : "");
        setTimeout(poll, 1000);
        return;
      }
      bar.hidden = true;
      btn.disabled = false;
      if (j && j.status === "failed") { line.textContent = "Publication : échec — " + (j.error || ""); OH.say(line.textContent, true); return; }
      OH.say("Publication terminée : " + r.body.status + ".");
      location.reload();
    }
    btn.addEventListener("click", async function () {
      btn.disabled = true;
      var r = await OH.api("POST", "/api/publish", {});
      if (!r.ok) { btn.disabled = false; OH.say(r.body.error, true); return; }
      line.textContent = "Publication demandée…";
      bar.hidden = false;
      setTimeout(poll, 500);
    });
    if (!bar.hidden) setTimeout(poll, 1000);
  }
})();
