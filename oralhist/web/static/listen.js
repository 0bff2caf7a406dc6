/* Listening made for transcribing (issue 23, item 4), beside editor.js: pitch kept at every
   speed, the speed and the rewind-on-pause remembered per person (this browser, per account
   name), a rewind of N seconds at each pause, « lecture en boucle » of the current segment,
   and foot-pedal keys (F2 / F4 / F8 / F9 and the media keys). */
"use strict";
(function () {
  var audio = document.getElementById("audio");
  var work = document.getElementById("work");
  var box = document.getElementById("segments");
  if (!audio || !work || !box) return;
  var me = work.getAttribute("data-me") || "local";
  var KEY = "oralhist.listen." + me;
  var prefs = {};
  try { prefs = JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { prefs = {}; }
  function store() { try { localStorage.setItem(KEY, JSON.stringify(prefs)); } catch (e) { /* private mode */ } }

  // ------------------------------------------------------------------ pitch and speed
  function keepPitch() { audio.preservesPitch = true; if ("webkitPreservesPitch" in audio) audio.webkitPreservesPitch = true; }
  keepPitch();
  var rateOut = document.getElementById("rate");
  function showRate() { if (rateOut) rateOut.textContent = audio.playbackRate.toFixed(1); }
  if (typeof prefs.rate === "number" && prefs.rate >= 0.5 && prefs.rate <= 2.5) {
    audio.defaultPlaybackRate = prefs.rate;
    audio.playbackRate = prefs.rate;
    showRate();
  }
  audio.addEventListener("loadedmetadata", function () {  // a new source resets the rate
    if (typeof prefs.rate === "number") { audio.playbackRate = prefs.rate; showRate(); }
    keepPitch();
  });
  audio.addEventListener("ratechange", function () {
    keepPitch();
    prefs.rate = Math.round(audio.playbackRate * 10) / 10;
    store();
  });

  // ------------------------------------------------------------------ rewind on pause
  var rewind = document.getElementById("rewind");
  if (typeof prefs.rewind === "number") rewind.value = String(prefs.rewind);
  function rewindSeconds() {
    var v = parseFloat(String(rewind.value).replace(",", "."));
    return isFinite(v) && v >= 0 ? Math.min(v, 30) : 2;
  }
  rewind.addEventListener("change", function () { prefs.rewind = rewindSeconds(); rewind.value = String(prefs.rewind); store(); });
  audio.addEventListener("pause", function () {
    if (audio.ended) return;
    var n = rewindSeconds();
    if (n > 0) audio.currentTime = Math.max(0, audio.currentTime - n);
  });

  // ------------------------------------------------------------------ loop of the current segment
  var loopBtn = document.getElementById("loop"), looping = null;
  function segmentAt(ms) {
    var segs = box.querySelectorAll(".seg"), found = null;
    for (var i = 0; i < segs.length; i++) {
      if (parseInt(segs[i].dataset.start, 10) <= ms) found = i; else break;
    }
    if (found === null) return null;
    var seg = segs[found], start = parseInt(seg.dataset.start, 10);
    var next = segs[found + 1], words = seg.querySelectorAll("span.w[data-e]");
    var end = words.length ? parseInt(words[words.length - 1].dataset.e, 10) : null;
    if (next) end = Math.max(end || 0, parseInt(next.dataset.start, 10));
    if (!end || end <= start) end = start + 5000;
    return { start: start, end: end };
  }
  function setLoop(on) {
    looping = on ? segmentAt(audio.currentTime * 1000 + 1) : null;
    loopBtn.setAttribute("aria-pressed", looping ? "true" : "false");
    if (looping) {
      OH.say("Lecture en boucle : " + OH.hms(looping.start) + " – " + OH.hms(looping.end) + ".");
      if (audio.currentTime * 1000 < looping.start || audio.currentTime * 1000 >= looping.end) audio.currentTime = looping.start / 1000;
      audio.play().catch(function () {});
      requestAnimationFrame(watch);
    } else OH.say("Lecture en boucle arrêtée.");
  }
  function watch() {
    if (!looping) return;
    if (audio.currentTime * 1000 >= looping.end) audio.currentTime = looping.start / 1000;
    if (!audio.paused) requestAnimationFrame(watch);
  }
  audio.addEventListener("play", function () { if (looping) requestAnimationFrame(watch); });
  audio.addEventListener("timeupdate", function () { if (looping && audio.currentTime * 1000 >= looping.end) audio.currentTime = looping.start / 1000; });
  loopBtn.addEventListener("click", function () { setLoop(!looping); });

  // ------------------------------------------------------------------ keys (pedal-friendly)
  function jump(sec) { audio.currentTime = Math.max(0, audio.currentTime + sec); }
  function toggle() { if (audio.paused) audio.play().catch(function () {}); else audio.pause(); }
  document.addEventListener("keydown", function (ev) {
    var alt = ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey;
    var plain = !ev.altKey && !ev.ctrlKey && !ev.metaKey && !ev.shiftKey;
    var handled = true;
    if ((alt && ev.code === "KeyB") || (plain && ev.key === "F9")) setLoop(!looping);
    else if ((plain && ev.key === "F4") || ev.key === "MediaPlayPause") toggle();
    else if ((plain && ev.key === "F2") || ev.key === "MediaTrackPrevious") jump(-5);
    else if ((plain && ev.key === "F8") || ev.key === "MediaTrackNext") jump(5);
    else handled = false;
    if (handled) { ev.preventDefault(); ev.stopPropagation(); }
  }, true);
})();
