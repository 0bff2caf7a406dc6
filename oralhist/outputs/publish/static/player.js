/* Interview page: read-along, click a word or a time to listen from there, #t= deep links.
   Vanilla JS, no build step. Works without it too: the transcript and links are plain HTML. */
(function () {
  "use strict";
  var audio = document.getElementById("player");
  var segEls = Array.prototype.slice.call(document.querySelectorAll(".seg"));
  segEls.forEach(function (seg, i) { seg.id = "seg-" + i; });
  var words = [], wordEls = [];
  // Each segment's words become spans (read-along, click to listen). A long transcript (an hour is
  // some 8,000 words) is split a few dozen segments at a time between frames, so that no long task
  // blocks the phone at load (issue 26, Lighthouse's Total Blocking Time); segments stay in order,
  // so `words` stays sorted while it grows.
  function splitSeg(seg) {
    var p = seg.querySelector(".txt[data-w]");
    if (!p) return;
    var base = parseInt(seg.getAttribute("data-s"), 10);
    // each word's start in centiseconds after the previous word's (the first: after the segment's)
    var acc = 0;
    var offs = p.getAttribute("data-w").split(" ").map(function (x) { acc += Number(x) * 10; return acc; });
    // Words are separated by a space, or a zero-width space where they were glued (l'|avant).
    var parts = p.textContent.split(/( |\u200b)/);
    if ((parts.length + 1) / 2 !== offs.length) return;
    var frag = document.createDocumentFragment();
    parts.forEach(function (tok, j) {
      if (j % 2 === 1) { if (tok === " ") frag.appendChild(document.createTextNode(" ")); return; }
      var i = j / 2;
      var span = document.createElement("span");
      span.className = "w";
      span.textContent = tok;
      span.setAttribute("data-t", String(base + offs[i]));
      words.push(base + offs[i]);
      wordEls.push(span);
      frag.appendChild(span);
    });
    p.textContent = "";
    p.appendChild(frag);
  }
  var CHUNK = 40, pending = segEls.slice(CHUNK);
  segEls.slice(0, CHUNK).forEach(splitSeg);
  function splitMore() {
    pending.splice(0, CHUNK).forEach(splitSeg);
    if (pending.length) later(splitMore);
    else if (audio && audio.currentTime > 0) highlight(audio.currentTime * 1000, false);
  }
  function later(f) { if (window.requestIdleCallback) requestIdleCallback(f, { timeout: 200 }); else setTimeout(f, 0); }
  if (pending.length) later(splitMore);
  var segStarts = segEls.map(function (s) { return parseInt(s.getAttribute("data-s"), 10); });
  var tocEls = Array.prototype.slice.call(document.querySelectorAll(".toc li[data-s]"));
  var follow = document.getElementById("follow");
  var nowTopic = document.getElementById("now-topic");

  function lastAtOrBefore(arr, t) {
    var lo = 0, hi = arr.length - 1, ans = -1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (arr[mid] <= t) { ans = mid; lo = mid + 1; } else { hi = mid - 1; } }
    return ans;
  }
  var curWord = -1, curSeg = -1, curToc = -1;
  function highlight(ms, scroll) {
    var w = lastAtOrBefore(words, ms);
    if (w !== curWord) {
      if (curWord >= 0) wordEls[curWord].classList.remove("cur");
      if (w >= 0) wordEls[w].classList.add("cur");
      curWord = w;
    }
    var s = lastAtOrBefore(segStarts, ms);
    if (s !== curSeg) {
      if (curSeg >= 0) segEls[curSeg].classList.remove("cur");
      if (s >= 0) {
        segEls[s].classList.add("cur");
        if (scroll && (!follow || follow.checked)) segEls[s].scrollIntoView({ block: "nearest" });
      }
      curSeg = s;
    }
    var tIdx = -1;
    tocEls.forEach(function (li, i) { if (parseInt(li.getAttribute("data-s"), 10) <= ms) tIdx = i; });
    if (tIdx !== curToc) {
      tocEls.forEach(function (li, i) { li.classList.toggle("cur", i === tIdx); });
      if (nowTopic) nowTopic.textContent = tIdx >= 0 ? tocEls[tIdx].querySelector("a").textContent : "";
      curToc = tIdx;
    }
  }
  function parseT(hash) {
    var m = /(?:^#|&)t=([0-9:.]+)/.exec(hash || "");
    if (!m) return null;
    var parts = m[1].split(":").map(Number), sec = 0;
    parts.forEach(function (n) { sec = sec * 60 + n; });
    return isNaN(sec) ? null : sec;
  }
  // The page says preload="none": the audio is fetched once, by whichever of two ways fits the
  // server. A server with HTTP range requests gets a 2-byte probe answered 206, and the element
  // then streams (and seeks) as usual. A server without them (`python -m http.server`) answers
  // the probe with the whole file: that answer is kept and played from memory, where seeking
  // works, instead of letting the element download the file a second time. From file:// (kiosk,
  // USB key) the element reads the file itself.
  var ready = !audio ? Promise.resolve() : new Promise(function (resolve) {
    var srcEl = audio.querySelector("source");
    var url = srcEl ? srcEl.src : audio.currentSrc || audio.src;
    var wantPlay = false, settled = false;
    function onPlay() { if (!settled) wantPlay = true; }
    audio.addEventListener("play", onPlay);
    function done() {
      if (settled) return;
      settled = true;
      audio.removeEventListener("play", onPlay);
      if (wantPlay && audio.paused) { var pr = audio.play(); if (pr && pr.catch) pr.catch(function () {}); }
      resolve();
    }
    function whenMeta() {
      if (audio.readyState >= 1) { done(); return; }
      audio.addEventListener("loadedmetadata", done, { once: true });
      audio.addEventListener("error", done, { once: true });
    }
    function direct() {
      if (srcEl && !srcEl.parentNode) audio.insertBefore(srcEl, audio.firstChild);
      audio.preload = "metadata";
      audio.load();
      whenMeta();
    }
    if (!url || !/^https?:/.test(location.protocol) || !window.fetch) { direct(); return; }
    // No source while the probe runs: a press on play meanwhile waits (paused stays false and
    // playback starts once the audio is there), it does not start a download of its own.
    if (srcEl) srcEl.remove();
    audio.load();
    fetch(url, { headers: { Range: "bytes=0-1" } }).then(function (r) {
      if (r.status === 206) {
        if (r.body && r.body.cancel) r.body.cancel();
        direct();
        return;
      }
      if (!r.ok) { direct(); return; }
      return r.blob().then(function (blob) {
        audio.src = URL.createObjectURL(blob);
        audio.preload = "auto";
        audio.load();
        whenMeta();
      });
    }).catch(direct);
  });
  function seek(sec, play) {
    if (!audio) return;
    var go = function () {
      audio.currentTime = sec;
      highlight(sec * 1000, true);
      if (play) { var pr = audio.play(); if (pr && pr.catch) pr.catch(function () {}); }
    };
    ready.then(go);
    var s = lastAtOrBefore(segStarts, sec * 1000);
    if (s >= 0) segEls[s].scrollIntoView({ block: "center" });
  }
  document.addEventListener("click", function (ev) {
    var el = ev.target;
    if (el.classList && el.classList.contains("w")) {
      seek(parseInt(el.getAttribute("data-t"), 10) / 1000, true);
      return;
    }
    var a = el.closest ? el.closest("a.seek") : null;
    if (a && audio) {
      ev.preventDefault();
      var t = parseT(a.getAttribute("href"));
      if (t !== null) {
        history.replaceState(null, "", a.getAttribute("href"));
        seek(t, true);
      }
    }
  });
  if (audio) {
    audio.addEventListener("timeupdate", function () { highlight(audio.currentTime * 1000, true); });
    var raf = function () { highlight(audio.currentTime * 1000, true); if (!audio.paused) requestAnimationFrame(raf); };
    audio.addEventListener("play", function () { requestAnimationFrame(raf); });
    // Captions are shown by captions.js from the transcript in the page (an <audio> element
    // draws no cues); the .vtt tracks stay disabled, so browsers do not download them twice.
    var t0 = parseT(location.hash);
    if (t0 !== null) seek(t0, false);
    window.addEventListener("hashchange", function () { var t = parseT(location.hash); if (t !== null) seek(t, true); });
  }
})();
