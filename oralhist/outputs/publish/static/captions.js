/* Interview page: the current caption shown large under the player (an <audio> element shows
   no cues itself). The cues are read from the transcript in the page (each segment's start,
   end, speaker and text: the same as captions.vtt), so this also works from file:// (kiosk,
   USB key), where browsers refuse to fetch captions.vtt, and costs the page no extra bytes.
   A checkbox hides or shows them. */
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var box = document.getElementById("caption");
  var toggle = document.getElementById("show-captions");
  if (!audio || !box) return;
  var cues = [];  // [start ms, end ms, speaker, text], sorted by start
  Array.prototype.forEach.call(document.querySelectorAll(".seg[data-e]"), function (seg) {
    var s = +seg.getAttribute("data-s"), e = +seg.getAttribute("data-e");
    var spk = seg.querySelector(".spk"), txt = seg.querySelector(".txt");
    // the page glues words with zero-width spaces and keeps no-break spaces inside words
    var text = txt ? txt.textContent.replace(/\u200b/g, "").replace(/\s+/g, " ").trim() : "";
    if (e > s && text) cues.push([s, e, spk ? spk.textContent : "", text]);
  });
  cues.sort(function (a, b) { return a[0] - b[0]; });
  if (!cues.length) return;
  var cur = -2;
  // Nothing is shown before the visitor plays or moves in the recording (no band, no cue).
  var started = false;
  function find(ms) {
    var lo = 0, hi = cues.length - 1, ans = -1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (cues[mid][0] <= ms) { ans = mid; lo = mid + 1; } else { hi = mid - 1; } }
    return ans >= 0 && ms < cues[ans][1] ? ans : -1;
  }
  function show() {
    var on = !toggle || toggle.checked;
    box.hidden = !on;
    var i = on && started ? find(audio.currentTime * 1000) : -1;
    if (i === cur) return;
    cur = i;
    box.textContent = "";
    if (i < 0) return;
    if (cues[i][2]) {
      var who = document.createElement("span");
      who.className = "who";
      who.textContent = cues[i][2] + "\u00a0: ";
      box.appendChild(who);
    }
    box.appendChild(document.createTextNode(cues[i][3]));
  }
  function start() { started = true; show(); }
  audio.addEventListener("timeupdate", function () { if (!audio.paused || started) start(); });
  audio.addEventListener("play", start);
  audio.addEventListener("seeked", start);
  if (toggle) toggle.addEventListener("change", function () { cur = -2; show(); });
  show();
})();
