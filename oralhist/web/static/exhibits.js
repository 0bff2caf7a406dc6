/* The curators' pages (oralhist/web/exhibits.py). Text reaches the page only through
   textContent / value; every write goes through OH.api (CSRF header). */
"use strict";
(function () {
  var pageName = document.body.getAttribute("data-page");
  var flash = sessionStorage.getItem("oh-flash");
  if (flash) { sessionStorage.removeItem("oh-flash"); OH.say(flash); }

  function target() {
    var sel = document.getElementById("cible");
    if (!sel || !sel.value) return null;
    var parts = sel.value.split("|");
    return { slug: parts[0], section: Number(parts[1]), label: sel.options[sel.selectedIndex].textContent };
  }

  function clock(ms) {  /* mm:ss or h:mm:ss, with tenths when not whole (the file's format) */
    ms = Math.max(0, Math.round(ms));
    var s = Math.floor(ms / 1000), frac = ms % 1000;
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    var out = (h ? h + ":" + String(m).padStart(2, "0") : String(m).padStart(2, "0")) + ":" + String(x).padStart(2, "0");
    if (frac) out += "." + String(frac).padStart(3, "0").replace(/0+$/, "");
    return out;
  }

  async function addTo(kind, payload) {
    var t = target();
    if (!t) { OH.say("Choisissez d’abord une exposition et une section.", true); return; }
    payload.section = t.section;
    var r = await OH.api("POST", "/api/expositions/" + encodeURIComponent(t.slug) + "/" + kind, payload);
    if (r.ok) OH.say("Ajouté à «\u202f" + t.label + "\u202f».");
    else OH.say("Refusé : " + (r.body && r.body.error || r.status), true);
    return r;
  }

  // « ajouter à l'exposition… » on search results and a term's passages
  document.querySelectorAll("button.add-clip").forEach(function (b) {
    b.addEventListener("click", function () {
      addTo("clips", { interview_id: b.dataset.iid, start_ms: Number(b.dataset.start), end_ms: Number(b.dataset.end) });
    });
  });
  document.querySelectorAll("button.add-term-here").forEach(function (b) {
    b.addEventListener("click", function () { addTo("terms", { term: b.dataset.term }); });
  });
  document.querySelectorAll("button.add-object-here").forEach(function (b) {
    b.addEventListener("click", function () { addTo("objects", { object: b.dataset.ref }); });
  });

  // the list: create an exhibition
  var create = document.getElementById("expo-new");
  if (create) create.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var f = create.elements;
    var r = await OH.api("POST", "/api/expositions", { title: f.title.value, slug: f.slug.value,
                                                      intro_md: f.intro_md.value, section: f.section.value });
    if (r.ok) location.href = r.body.url;
    else OH.say("Refusé : " + (r.body && r.body.error || r.status), true);
  });

  // the player: in/out points from the playhead
  if (pageName === "expo-player") {
    var audio = document.getElementById("audio"), inp = document.getElementById("in"), out = document.getElementById("out");
    var stopAt = null;
    function mark(field) { field.value = clock(audio.currentTime * 1000); OH.say((field === inp ? "Début" : "Fin") + " : " + field.value); }
    document.getElementById("mark-in").addEventListener("click", function () { mark(inp); });
    document.getElementById("mark-out").addEventListener("click", function () { mark(out); });
    document.addEventListener("keydown", function (ev) {
      var tag = (ev.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      if (ev.key === "i") { mark(inp); ev.preventDefault(); }
      if (ev.key === "o") { mark(out); ev.preventDefault(); }
    });
    document.getElementById("play-range").addEventListener("click", function () {
      var a = OH.parseHms(inp.value), b = OH.parseHms(out.value);
      if (a === null) { OH.say("Début illisible.", true); return; }
      audio.currentTime = a / 1000;
      stopAt = b;
      audio.play();
    });
    audio.addEventListener("timeupdate", function () {
      if (stopAt !== null && audio.currentTime * 1000 >= stopAt) { audio.pause(); stopAt = null; }
    });
    var a0 = OH.parseHms(inp.value);
    if (a0 !== null) audio.addEventListener("loadedmetadata", function () { audio.currentTime = a0 / 1000; }, { once: true });
    var add = document.getElementById("add-range");
    if (add) add.addEventListener("click", function () {
      var a = OH.parseHms(inp.value), b = OH.parseHms(out.value);
      if (a === null || b === null) { OH.say("Marquez le début et la fin de l’extrait.", true); return; }
      addTo("clips", { interview_id: document.body.dataset.iid, start_ms: a, end_ms: b });
    });
  }

  // the objects page: alt text
  document.querySelectorAll("form.alt-form").forEach(function (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var li = form.closest("li.obj");
      var r = await OH.api("POST", "/api/objets/" + li.dataset.id + "/alt", { alt: form.elements.alt.value });
      if (!r.ok) { OH.say("Refusé : " + (r.body && r.body.error || r.status), true); return; }
      li.classList.remove("needs-alt");
      var flag = li.querySelector(".flag");
      if (flag) flag.remove();
      var img = li.querySelector("img");
      if (img) img.setAttribute("alt", r.body.alt);
      OH.say("Texte alternatif de " + li.dataset.ref + " enregistré.");
    });
  });

  // issue 21: an object's picture with its alt text, in one step; removing it
  async function sendForm(url, form) {
    var meta = document.querySelector('meta[name="csrf"]');
    var r = await fetch(url, { method: "POST", body: new FormData(form), credentials: "same-origin",
                               headers: { "X-CSRF-Token": meta ? meta.content : "" } });
    var body;
    try { body = await r.json(); } catch (e) { body = { error: "réponse illisible (" + r.status + ")" }; }
    return { ok: r.ok, status: r.status, body: body };
  }
  document.querySelectorAll("form.picture-form").forEach(function (form) {
    var input = form.elements.file, shown = form.querySelector(".file-name");
    input.addEventListener("change", function () {
      shown.textContent = input.files.length ? input.files[0].name : "aucune photographie choisie";
    });
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var li = form.closest("li.obj");
      if (!input.files.length) { OH.say("Choisissez d’abord une photographie.", true); input.focus(); return; }
      var r = await sendForm("/api/objets/" + li.dataset.id + "/photo", form);
      if (!r.ok) { OH.say(r.body && r.body.error || "Refusé (" + r.status + ")", true); return; }
      sessionStorage.setItem("oh-flash", r.body.message);
      location.reload();
    });
  });
  document.querySelectorAll("button.picture-remove").forEach(function (btn) {
    btn.addEventListener("click", async function () {
      var li = btn.closest("li.obj");
      var r = await OH.api("POST", "/api/objets/" + li.dataset.id + "/photo/retirer", {});
      if (!r.ok) { OH.say("Refusé : " + (r.body && r.body.error || r.status), true); return; }
      sessionStorage.setItem("oh-flash", r.body.message);
      location.reload();
    });
  });

  // the exhibition editor
  if (pageName === "expo-edit") {
    var form = document.getElementById("expo"), box = document.getElementById("sections");
    var dirty = false;
    function renumber() {
      box.querySelectorAll("fieldset.section").forEach(function (fs, i) {
        fs.querySelector("legend").textContent = "Section " + (i + 1);
      });
    }
    function changed() { dirty = true; OH.say("Modifications non enregistrées."); }
    form.addEventListener("input", function () { dirty = true; });
    window.addEventListener("beforeunload", function (ev) { if (dirty) { ev.preventDefault(); ev.returnValue = ""; } });
    function item(cls, attr, value, label, what) {
      var li = OH.el("li", { "class": cls });
      li.setAttribute(attr, value);
      li.appendChild(OH.el("span", null, label));
      li.appendChild(OH.el("button", { type: "button", "class": "remove", "aria-label": "Retirer " + what + " " + label }, "Retirer"));
      return li;
    }
    box.addEventListener("click", function (ev) {
      var b = ev.target.closest("button");
      if (!b) return;
      var fs = b.closest("fieldset.section");
      if (b.classList.contains("remove")) {
        var li = b.closest("li"), next = li.nextElementSibling || li.previousElementSibling;
        li.remove();
        (next ? next.querySelector("button") : fs.querySelector("input")).focus();
        changed();
      } else if (b.classList.contains("up") && fs.previousElementSibling) {
        box.insertBefore(fs, fs.previousElementSibling); b.focus(); renumber(); changed();
      } else if (b.classList.contains("down") && fs.nextElementSibling) {
        box.insertBefore(fs.nextElementSibling, fs); b.focus(); renumber(); changed();
      } else if (b.classList.contains("drop")) {
        if (box.querySelectorAll("fieldset.section").length < 2) { OH.say("Une exposition garde au moins une section.", true); return; }
        var other = fs.nextElementSibling || fs.previousElementSibling;
        fs.remove(); renumber(); other.querySelector("input").focus(); changed();
      } else if (b.classList.contains("add-object")) {
        var sel = fs.querySelector(".object-choice");
        if (!sel.value) return;
        var list = fs.querySelector("ul.objects");
        if (!list.querySelector('li[data-ref="' + CSS.escape(sel.value) + '"]')) list.appendChild(item("object", "data-ref", sel.value, sel.value, "l’objet"));
        changed();
      } else if (b.classList.contains("add-term")) {
        var inp = fs.querySelector(".term-choice"), v = inp.value.trim();
        if (!v) return;
        fs.querySelector("ul.terms").appendChild(item("term", "data-term", v, v, "le terme"));
        inp.value = ""; changed();
      }
    });
    document.getElementById("add-section").addEventListener("click", function () {
      var fs = document.getElementById("section-tpl").content.firstElementChild.cloneNode(true);
      box.appendChild(fs); renumber(); fs.querySelector("input").focus(); changed();
    });
    function doc() {
      return {
        title: form.elements.title.value, intro_md: form.elements.intro_md.value,
        sections: Array.prototype.map.call(box.querySelectorAll("fieldset.section"), function (fs) {
          return {
            title: fs.querySelector('[name="stitle"]').value,
            narrative_md: fs.querySelector('[name="narrative_md"]').value,
            clips: Array.prototype.map.call(fs.querySelectorAll("li.clip"), function (li) {
              return { interview_id: li.dataset.iid, start_ms: Number(li.dataset.start), end_ms: Number(li.dataset.end) };
            }),
            objects: Array.prototype.map.call(fs.querySelectorAll("li.object"), function (li) { return li.dataset.ref; }),
            terms: Array.prototype.map.call(fs.querySelectorAll("li.term"), function (li) { return li.dataset.term; })
          };
        })
      };
    }
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var slug = document.body.dataset.slug;
      var r = await OH.api("POST", "/api/expositions/" + encodeURIComponent(slug),
                           { version: document.body.dataset.version, exhibition: doc() });
      if (!r.ok) { OH.say("Refusé : " + (r.body && r.body.error || r.status), true); return; }
      dirty = false;
      sessionStorage.setItem("oh-flash", "Exposition enregistrée.");
      location.reload();
    });
  }
})();
