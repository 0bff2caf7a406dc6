/* Shared by the workbench pages (after common.js): French plurals and local dates, the
   unsaved-changes warning, the player of the Index/Links/Speakers pages, and the term
   picker (a filtering combobox, WAI-ARIA pattern). Data only ever goes in with textContent. */
"use strict";
(function () {
  OH.plural = function (n, one, many) { return n + " " + (Math.abs(n) < 2 ? one : many); };  // French: 0 and 1 singular
  var FMT = new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeStyle: "short" });
  OH.when = function (iso) { var d = new Date(iso); return isNaN(d) ? iso : FMT.format(d); };
  // <time class="local" datetime="ISO"> -> « 14 juin 1998 à 14:03 » in the reader's time zone
  document.querySelectorAll("time.local[datetime]").forEach(function (t) {
    t.textContent = OH.when(t.getAttribute("datetime"));
  });

  // ---------------------------------------------------------------- unsaved changes
  var dirtyChecks = [];
  OH.warnUnsaved = function (isDirty) { dirtyChecks.push(isDirty); };
  window.addEventListener("beforeunload", function (ev) {
    if (dirtyChecks.some(function (f) { return f(); })) { ev.preventDefault(); ev.returnValue = ""; }
  });
  // A form whose fields changed since the page was shown (or last saved: OH.markSaved(form)).
  OH.trackForm = function (form) {
    var initial = serialise(form);
    form.dataset.saved = initial;
    OH.warnUnsaved(function () { return form.isConnected && serialise(form) !== form.dataset.saved; });
  };
  OH.markSaved = function (form) { form.dataset.saved = serialise(form); };
  function serialise(root) {
    return Array.prototype.map.call(root.querySelectorAll("input, select, textarea"), function (x) {
      return x.type === "checkbox" ? String(x.checked) : x.value;
    }).join("\u0001") + "|" + root.querySelectorAll("fieldset").length;
  }

  // ---------------------------------------------------------------- player
  var audio = document.getElementById("audio");
  OH.playhead = function () { return audio ? Math.round(audio.currentTime * 1000) : 0; };
  OH.playSpan = function (startMs, endMs) {  // play [start, end) then pause
    if (!audio) return;
    var go = function () {
      audio.currentTime = startMs / 1000;
      audio.play().catch(function () {});
    };
    audio._stopAt = endMs;
    if (audio.readyState >= 1) go(); else audio.addEventListener("loadedmetadata", go, { once: true });
  };
  if (audio) {
    audio.addEventListener("timeupdate", function () {
      if (audio._stopAt && audio.currentTime * 1000 >= audio._stopAt) { audio.pause(); audio._stopAt = null; }
      var out = document.getElementById("playhead");
      if (out) out.textContent = OH.hms(OH.playhead());
    });
    audio.addEventListener("seeking", function () {
      var out = document.getElementById("playhead");
      if (out) out.textContent = OH.hms(OH.playhead());
    });
  }

  // ---------------------------------------------------------------- combobox
  // <div class="combobox"><input role="combobox"><ul role="listbox"><li role="option" data-value>…
  // and a hidden input that receives the chosen value.
  function fold(s) { return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase(); }
  OH.combobox = function (wrap) {
    var input = wrap.querySelector("[role=combobox]"), list = wrap.querySelector("[role=listbox]");
    var hidden = wrap.querySelector("input[type=hidden]");
    var options = Array.prototype.slice.call(list.querySelectorAll("[role=option]"));
    var count = wrap.querySelector(".count");
    options.forEach(function (o, i) {
      o.id = list.id + "-" + i; o._key = fold(o.textContent); o._label = fold(o.getAttribute("data-label") || o.textContent).trim();
    });
    var active = -1;
    function visible() {  // in the list's order (exact labels first: see filter)
      return Array.prototype.filter.call(list.querySelectorAll("[role=option]"), function (o) { return !o.hidden; });
    }
    function open(yes) {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (!yes) { input.removeAttribute("aria-activedescendant"); active = -1; mark(); }
    }
    function mark() {
      var vis = visible();
      options.forEach(function (o) { o.setAttribute("aria-selected", "false"); o.classList.remove("active"); });
      if (active >= 0 && vis[active]) {
        vis[active].setAttribute("aria-selected", "true");
        vis[active].classList.add("active");
        input.setAttribute("aria-activedescendant", vis[active].id);
        vis[active].scrollIntoView({ block: "nearest" });
      }
    }
    function filter() {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var n = 0;
      options.forEach(function (o) {
        o.hidden = !words.every(function (w) { return o._key.indexOf(w) >= 0; });
        if (!o.hidden) n++;
      });
      if (count) count.textContent = n === 0 ? "aucun terme" : OH.plural(n, "terme", "termes");
      /* issue 21: a label equal to what was typed comes first (« Mineur » the trade before « Lampe
         de mineur » the object), then labels that start with it, then the others, each group in
         the page's order; nothing is active until ↓ (Entrée alone links nothing) */
      var q = words.join(" ");
      function rank(o) { return o._label === q ? 0 : o._label.indexOf(q) === 0 ? 1 : 2; }
      options.slice().sort(function (a, b) { return rank(a) - rank(b) || options.indexOf(a) - options.indexOf(b); })
        .forEach(function (o) { list.appendChild(o); });
      active = -1;
      input.removeAttribute("aria-activedescendant");
      mark();
    }
    function choose(o) {
      hidden.value = o.getAttribute("data-value");
      input.value = o.getAttribute("data-label") || o.textContent;
      open(false);
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    input.addEventListener("input", function () { hidden.value = ""; open(true); filter(); });
    input.addEventListener("focus", function () { open(true); filter(); });
    input.addEventListener("blur", function () { setTimeout(function () { open(false); }, 150); });
    input.addEventListener("keydown", function (ev) {
      var vis = visible();
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        if (list.hidden) { open(true); filter(); return; }
        if (!vis.length) return;
        active = ev.key === "ArrowDown" ? Math.min(vis.length - 1, active + 1) : Math.max(0, active - 1);
        mark();
      } else if (ev.key === "Enter") {
        if (!list.hidden) { ev.preventDefault(); if (vis[active]) choose(vis[active]); }  // the list open: never sends the form
      } else if (ev.key === "Escape") {
        if (!list.hidden) { ev.preventDefault(); ev.stopPropagation(); open(false); }
      }
    });
    list.addEventListener("mousedown", function (ev) { ev.preventDefault(); });  // keep the focus in the input
    list.addEventListener("click", function (ev) {
      var o = ev.target.closest("[role=option]");
      if (o) choose(o);
    });
    open(false);
  };
  document.querySelectorAll(".combobox").forEach(OH.combobox);
})();
