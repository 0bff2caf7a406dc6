/* Interview page: the current caption shown large under the player (an <audio> element shows
   no cues itself). The cues are embedded in the page, so this also works from file:// (kiosk,
   USB key), where browsers refuse to fetch captions.vtt. A checkbox hides or shows them. */
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var box = document.getElementById("caption");
  var toggle = document.getElementById("show-captions");
  var data = document.getElementById("cues");
  if (!audio || !box || !data) return;
  var cues = JSON.parse(data.textContent);  // [start ms, end ms, speaker, text], sorted by start
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
