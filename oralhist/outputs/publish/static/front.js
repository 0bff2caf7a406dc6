// The home page's « Écouter un témoignage au hasard » (issue 26): on the first click the list of
// public clips of 20-60 s built at publish time (extraits.js, a script so that it loads from
// file://) is loaded; each click picks one at random and plays exactly its range.
(function () {
  var btn = document.getElementById("random-clip");
  if (!btn) return;
  var player = document.getElementById("random-player"), audio = document.getElementById("random-audio");
  var caption = document.getElementById("random-caption"), range = null;
  audio.addEventListener("timeupdate", function () {
    if (range && audio.currentTime >= range[1]) { audio.pause(); audio.currentTime = range[1]; }
  });
  audio.addEventListener("play", function () {
    if (range && (audio.currentTime < range[0] - 0.25 || audio.currentTime >= range[1])) audio.currentTime = range[0];
  });
  function text(tag, t, cls) { var e = document.createElement(tag); e.textContent = t; if (cls) e.className = cls; return e; }
  function pick() {
    var list = window.OH_CLIPS || [];
    if (!list.length) return;
    var c = list[Math.floor(Math.random() * list.length)];
    range = [c[2], c[3]];
    audio.dataset.start = c[2]; audio.dataset.end = c[3]; audio.dataset.page = c[0];
    audio.src = c[1] + "#t=" + c[2] + "," + c[3];
    caption.textContent = "";
    var a = document.createElement("a");
    a.href = "i/" + c[0] + ".html#t=" + c[2];
    a.textContent = c[4];
    caption.appendChild(a);
    if (c[5]) caption.appendChild(text("span", " — " + c[5]));
    if (c[6]) caption.appendChild(text("span", " · " + c[6], "topic"));
    player.hidden = false;
    btn.textContent = btn.dataset.again;
    var p = audio.play();
    if (p && p.catch) p.catch(function () {});
  }
  btn.addEventListener("click", function () {
    if (window.OH_CLIPS) return pick();
    var s = document.createElement("script");
    s.src = "extraits.js";
    s.onload = pick;
    document.body.appendChild(s);
  });
})();
