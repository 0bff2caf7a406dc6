// The language switch (issue 26, [site] languages = ["fr", "en"]): the site's chrome (every
// element with data-i18n / data-i18n-attr) in French or English; testimonies never change.
// The choice is kept in localStorage, so it follows the visitor from page to page.
(function () {
  var words = window.OH_LANG, btn = document.getElementById("lang-switch");
  if (!words || !btn) return;
  var base = window.OH_LANG_DEFAULT || "fr", other = base === "fr" ? "en" : "fr";
  function apply(lang) {
    var d = words[lang] || {};
    document.querySelectorAll("[data-i18n]").forEach(function (el) {
      var k = el.getAttribute("data-i18n");
      if (d[k] !== undefined) { el.textContent = d[k]; el.setAttribute("lang", lang); }
    });
    document.querySelectorAll("[data-i18n-attr]").forEach(function (el) {
      el.getAttribute("data-i18n-attr").split(";").forEach(function (pair) {
        var p = pair.split(":");
        if (d[p[1]] !== undefined) el.setAttribute(p[0], d[p[1]]);
      });
    });
    var next = lang === base ? other : base;
    btn.textContent = btn.getAttribute("data-" + next) || next;
    btn.setAttribute("lang", next);
    document.documentElement.setAttribute("data-chrome", lang);
    try { localStorage.setItem("oh-lang", lang); } catch (e) {}
  }
  btn.hidden = false;
  btn.addEventListener("click", function () {
    apply(document.documentElement.getAttribute("data-chrome") === other ? base : other);
  });
  var saved = null;
  try { saved = localStorage.getItem("oh-lang"); } catch (e) {}
  if (saved && saved !== base && words[saved]) apply(saved);
})();
