// Clip players of exhibition and object pages: each <audio class="range"> plays exactly
// [data-start, data-end) and lights the words said so far (read-along).
document.querySelectorAll("audio.range").forEach(function (a) {
  var s = parseFloat(a.dataset.start), e = parseFloat(a.dataset.end);
  var words = a.parentNode.querySelectorAll(".readalong span");
  a.addEventListener("play", function () { if (a.currentTime < s || a.currentTime >= e) a.currentTime = s; });
  a.addEventListener("timeupdate", function () {
    if (a.currentTime >= e) { a.pause(); a.currentTime = e; }
    words.forEach(function (w) { w.classList.toggle("now", parseFloat(w.dataset.t) <= a.currentTime); });
  });
});
