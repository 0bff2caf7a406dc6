/* Home page: filter the pre-rendered list by museum, trade, place and decade. */
(function () {
  "use strict";
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var cards = Array.prototype.slice.call(document.querySelectorAll("#cards .card"));
  var count = document.getElementById("shown-count");
  function apply() {
    var n = 0;
    cards.forEach(function (card) {
      var ok = selects.every(function (sel) {
        var want = sel.value;
        if (!want) return true;
        var vals = (card.getAttribute("data-" + sel.getAttribute("data-filter")) || "").split("|");
        return vals.indexOf(want) >= 0;
      });
      card.hidden = !ok;
      if (ok) n++;
    });
    if (count) count.textContent = String(n);
    var label = document.getElementById("shown-label");
    if (label) {
      // French takes the singular for 0 and 1, English only for 1.
      var one = label.getAttribute("data-lang") === "fr" ? n <= 1 : n === 1;
      label.textContent = label.getAttribute(one ? "data-one" : "data-many");
    }
  }
  selects.forEach(function (sel) { sel.addEventListener("change", apply); });
})();
