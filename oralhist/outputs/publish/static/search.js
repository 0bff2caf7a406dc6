/* Search page: Pagefind's JS API over the static index; results link to the moment (#t=). */
(function () {
  "use strict";
  var here = document.currentScript.src;
  var root = new URL("../", here).href;
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("results");
  var pagefind = null;

  function safeExcerpt(html) {
    // Keep only text and <mark>: parse in an inert document, rebuild with text nodes.
    var frag = document.createDocumentFragment();
    var doc = new DOMParser().parseFromString("<div>" + html + "</div>", "text/html");
    Array.prototype.forEach.call(doc.body.firstChild.childNodes, function (n) {
      if (n.nodeType === 1 && n.tagName === "MARK") {
        var m = document.createElement("mark"); m.textContent = n.textContent; frag.appendChild(m);
      } else {
        frag.appendChild(document.createTextNode(n.textContent));
      }
    });
    return frag;
  }
  async function run(q) {
    list.textContent = "";
    if (!q) { status.textContent = ""; return; }
    try {
      if (!pagefind) {
        // The index may be split into shards (pagefind/0/, pagefind/1/, ...): load the first, merge the others.
        // data-shards lists the shards that hold pages; none when nothing is published yet.
        var shards = (form.getAttribute("data-shards") || "").split(" ").filter(Boolean);
        if (!shards.length) { status.textContent = status.getAttribute("data-no-results"); return; }
        var pf = await import(root + "pagefind/" + shards[0] + "/pagefind.js");
        await pf.options({ baseUrl: "/" });
        for (var k = 1; k < shards.length; k++) await pf.mergeIndex(root + "pagefind/" + shards[k] + "/", { baseUrl: "/" });
        pagefind = pf;
      }
    } catch (e) {
      status.textContent = status.getAttribute("data-needs");
      return;
    }
    var search = await pagefind.search(q);
    var results = await Promise.all(search.results.slice(0, 30).map(function (r) { return r.data(); }));
    // French takes the singular for 0 and 1, English only for 1; numbers in the page's locale.
    var n = search.results.length, lang = status.getAttribute("data-lang") || "fr";
    var one = lang === "fr" ? n <= 1 : n === 1;
    var shown = window.Intl ? new Intl.NumberFormat(lang).format(n) : String(n);
    status.textContent = results.length ? shown + " " + status.getAttribute(one ? "data-result-one" : "data-results")
                                        : status.getAttribute("data-no-results");
    results.forEach(function (d) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      var raw = (d.raw_url || d.url || "").replace(/^\//, "");
      a.href = new URL(raw, root).href;
      a.textContent = (d.meta && d.meta.title) || raw;
      var h = document.createElement("h2"); h.appendChild(a); li.appendChild(h);
      // Moments: Pagefind sub-results under the transcript's "t=<seconds>" headings.
      var moments = (d.sub_results || []).filter(function (s) { return /#t=/.test(s.url); }).slice(0, 5);
      if (moments.length) {
        var ul = document.createElement("ul");
        moments.forEach(function (s) {
          var mli = document.createElement("li");
          var ma = document.createElement("a");
          ma.className = "moment";
          ma.href = new URL(s.url.replace(/^\//, ""), root).href;
          ma.textContent = s.title;
          mli.appendChild(ma);
          mli.appendChild(document.createTextNode(" "));
          var sp = document.createElement("span"); sp.appendChild(safeExcerpt(s.excerpt || "")); mli.appendChild(sp);
          ul.appendChild(mli);
        });
        li.appendChild(ul);
      } else {
        var p = document.createElement("p"); p.appendChild(safeExcerpt(d.excerpt || "")); li.appendChild(p);
      }
      list.appendChild(li);
    });
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value.trim();
    history.replaceState(null, "", "?q=" + encodeURIComponent(q));
    run(q);
  });
  var q0 = new URLSearchParams(location.search).get("q");
  if (q0) { input.value = q0; run(q0); }
})();
