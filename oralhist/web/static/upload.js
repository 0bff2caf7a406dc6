/* The import page: files dropped or chosen are sent with tus-js-client (resumable, by chunks),
   then POST /api/imports hands them to ingest (the CLI's validation). Server text is only put in
   the page with textContent. */
"use strict";
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.tus) return;
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("up-files");
  var list = document.getElementById("up-list");
  var consentInput = document.getElementById("f-consent");
  var consentStatus = document.getElementById("consent-status");
  var submit = document.getElementById("up-submit");
  var labels = JSON.parse(document.body.getAttribute("data-labels") || "{}");
  var maxBytes = Number(document.body.getAttribute("data-max-mb") || 0) * 1024 * 1024;
  var csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
  var CHUNK = 128 * 1024 * 1024;  // one PATCH per 128 Mo (the server records what arrived even when a connection drops)
  var items = [];  // {file, li, bar, status, uid}
  var busy = false;

  function octets(n) {
    if (n < 1024 * 1024) return Math.max(1, Math.round(n / 1024)) + "\u202fKo";
    if (n < 1024 * 1024 * 1024) return (n / 1024 / 1024).toFixed(1).replace(".", ",") + "\u202fMo";
    return (n / 1024 / 1024 / 1024).toFixed(2).replace(".", ",") + "\u202fGo";
  }

  function renumber() {
    items.forEach(function (it, i) {
      it.num.textContent = "Partie " + (i + 1) + " — ";
      it.up.disabled = i === 0 || busy;
      it.rm.disabled = busy;
    });
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      if (items.some(function (it) { return it.file.name === file.name && it.file.size === file.size; })) return;
      var li = OH.el("li", { "class": "up-item" });
      var num = OH.el("span", { "class": "num" });
      var name = OH.el("span", { "class": "name" }, file.name);
      var size = OH.el("span", { "class": "size" }, " (" + octets(file.size) + ")");
      var bar = OH.el("progress", { max: "1", value: "0", "aria-label": "Envoi de " + file.name });
      var status = OH.el("span", { "class": "file-status", "aria-live": "polite" });
      var up = OH.el("button", { type: "button", "class": "small", "aria-label": "Monter " + file.name + " d’un rang" }, "↑");
      var rm = OH.el("button", { type: "button", "class": "small", "aria-label": "Retirer " + file.name }, "Retirer");
      var it = { file: file, li: li, bar: bar, status: status, num: num, up: up, rm: rm, uid: null };
      up.addEventListener("click", function () {
        var i = items.indexOf(it);
        if (i > 0) { items.splice(i, 1); items.splice(i - 1, 0, it); list.insertBefore(li, items[i].li); renumber(); up.focus(); }
      });
      rm.addEventListener("click", function () {
        items.splice(items.indexOf(it), 1); li.remove(); renumber(); input.focus();
      });
      li.append(num, name, size, " ", bar, " ", status, " ", up, " ", rm);
      if (maxBytes && file.size > maxBytes) fail(it, "fichier trop volumineux (au plus " + octets(maxBytes) + ")");
      list.appendChild(li);
      items.push(it);
    });
    renumber();
  }

  function fail(it, msg) {
    it.status.textContent = msg;
    it.status.className = "file-status error";
    it.status.setAttribute("role", "alert");
    it.li.classList.add("failed");
  }

  function send(file, bar, status) {
    return new Promise(function (resolve, reject) {
      var up = new tus.Upload(file, {
        endpoint: "/api/uploads/",
        chunkSize: CHUNK,
        retryDelays: [0, 1000, 3000, 5000, 10000, 20000],
        removeFingerprintOnSuccess: true,  // an interrupted upload of the same file resumes after a reload
        headers: { "X-CSRF-Token": csrf },
        metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
        onProgress: function (sent, total) {
          if (bar) bar.value = total ? sent / total : 1;
          if (status) status.textContent = "envoi : " + Math.floor(100 * sent / (total || 1)) + "\u202f%";
        },
        onError: function (err) {
          var r = err && err.originalResponse;
          var text = r ? r.getBody() : "";
          try { text = JSON.parse(text).error || JSON.parse(text).detail || text; } catch (e) { /* plain text */ }
          reject(new Error(text || "la connexion a été perdue ; relancez l’envoi, il reprendra où il s’était arrêté"));
        },
        onSuccess: function () { resolve(up.url.split("/").pop()); }
      });
      up.findPreviousUploads().then(function (prev) {
        if (prev.length) up.resumeFromPreviousUpload(prev[0]);
        up.start();
      });
    });
  }

  function showInterview(iid) {
    var li = OH.el("li");
    var a = OH.el("a", { href: "/i/" + encodeURIComponent(iid) }, iid);
    var stages = OH.el("ol", { "class": "stages", "aria-label": "Étapes de " + iid });
    li.append(a, stages);
    document.getElementById("result-list").appendChild(li);
    document.getElementById("results").hidden = false;
    function poll() {
      OH.api("GET", "/api/interviews/" + encodeURIComponent(iid)).then(function (r) {
        if (!r.ok) return;
        stages.textContent = "";
        var pending = false;
        (r.body.jobs || []).forEach(function (j) {
          var word = { queued: "en attente", running: "en cours", done: "terminé", failed: "échec" }[j.status] || j.status;
          if (j.stage === "transcribe" && j.status === "done" && r.body.no_speech) word = "aucune parole détectée";  // issue 21
          var s = OH.el("li", { "class": "stage stage-" + j.status, "data-stage": j.stage }, (labels[j.stage] || j.stage) + " : " + word);
          if (j.status === "running") {
            s.append(" ", OH.el("progress", { max: "1", value: String(j.progress || 0), "aria-label": "Avancement : " + (labels[j.stage] || j.stage) }));
          }
          if (j.status === "failed" && j.error) s.append(" — " + j.error);
          stages.appendChild(s);
          if (j.status === "queued" || j.status === "running") pending = true;
        });
        if (pending) setTimeout(poll, 1000);
      });
    }
    poll();
  }

  function resetForm() {
    items.forEach(function (it) { it.li.remove(); });
    items = [];
    form.reset();  /* a museum fixed by the account keeps its value (its default) */
    consentStatus.textContent = "";
    consentStatus.className = "file-status";
    consentStatus.removeAttribute("role");
    var shown = document.getElementById("consent-name");
    if (shown) shown.textContent = "aucun formulaire choisi";
  }
  if (consentInput) consentInput.addEventListener("change", function () {
    var shown = document.getElementById("consent-name");
    if (shown) shown.textContent = consentInput.files.length ? consentInput.files[0].name : "aucun formulaire choisi";
  });

  ["dragenter", "dragover"].forEach(function (ev) {
    zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (ev) {
    zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) { if (e.dataTransfer && e.dataTransfer.files) add(e.dataTransfer.files); });
  input.addEventListener("change", function () { add(input.files); input.value = ""; });

  form.addEventListener("submit", async function (e) {
    e.preventDefault();
    if (busy) return;
    if (!items.length) { OH.say("Choisissez au moins un fichier audio.", true); input.focus(); return; }
    busy = true; submit.disabled = true; renumber();
    consentStatus.textContent = "";
    OH.say("Envoi en cours…");
    var ok = true;
    for (var i = 0; i < items.length; i++) {
      var it = items[i];
      it.li.classList.remove("failed");
      it.status.removeAttribute("role");
      it.status.className = "file-status";
      if (it.uid) continue;
      try { it.uid = await send(it.file, it.bar, it.status); it.status.textContent = "envoyé"; }
      catch (err) { fail(it, err.message); ok = false; }
    }
    var consentUid = null;
    if (ok && consentInput.files.length) {
      try { consentUid = await send(consentInput.files[0], null, consentStatus); consentStatus.textContent = "formulaire envoyé"; }
      catch (err) { consentStatus.textContent = err.message; consentStatus.className = "file-status error"; ok = false; }
    }
    if (!ok) {
      OH.say("Certains fichiers n’ont pas pu être envoyés : voir les messages à côté d’eux.", true);
      busy = false; submit.disabled = false; renumber(); return;
    }
    OH.say("Vérification et import…");
    var data = { uploads: items.map(function (it) { return it.uid; }), consent: consentUid,
                 together: document.getElementById("together").checked };
    ["narrator", "interviewer", "date", "place", "museum", "language", "title", "scope"].forEach(function (k) {
      data[k] = form.elements[k].value;
    });
    var r = await OH.api("POST", "/api/imports", data);
    var byUid = {};
    items.forEach(function (it) { byUid[it.uid] = it; });
    var errs = (r.body.failed || []).concat(r.body.duplicates || []);
    var placed = 0;
    errs.forEach(function (f) {
      var it = byUid[f.upload];
      if (it) { fail(it, f.error); it.uid = null; placed++; }  /* refused: sent again next time */
      else if (f.upload && f.upload === consentUid) {
        consentStatus.textContent = f.error; consentStatus.className = "file-status error";
        consentStatus.setAttribute("role", "alert"); placed++;
      }
    });
    if (!r.ok) OH.say(placed ? "Import refusé : voir les messages à côté des fichiers." : (r.body.error || "Import refusé."), true);
    /* refused before anything was written (a bad date, an empty consent form): the server kept the
       uploads, a corrected form is sent again without re-sending the files */
    if (!r.body.kept) items.forEach(function (it) { it.uid = null; });
    (r.body.ids || []).forEach(function (iid) {
      items.forEach(function (it) { if (!it.li.classList.contains("failed")) it.status.textContent = "importé dans " + iid; });
      showInterview(iid);
    });
    if (r.ok && (r.body.ids || []).length) {
      /* issue 21, item 4: what was created is said and listed; the form is emptied for the next
         interview (files, narrator, consent scan, scope: nothing carried over by mistake) */
      OH.say((r.body.ids.length > 1 ? r.body.ids.length + " entretiens créés : " : "Entretien créé : ") +
             r.body.ids.join(", ") + " ; le traitement commence. Le formulaire est vide, prêt pour le suivant.");
      resetForm();
    } else if (r.ok) {
      OH.say("Rien de nouveau : ces fichiers sont déjà dans l’archive.", true);
    }
    busy = false; submit.disabled = false; renumber();
  });
})();
