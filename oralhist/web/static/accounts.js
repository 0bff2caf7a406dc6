/* « Comptes » and « Mon compte »: every form with data-api sends its fields as JSON (with the
   session's CSRF token, through OH.api), then reloads, goes to an address, or shows the
   temporary password of a reset. Messages come from the server, in French. */
"use strict";
(function () {
  function fields(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.hasAttribute("data-skip")) return;
      data[el.name] = el.getAttribute("data-type") === "bool" ? el.value === "true" : el.value;
    });
    return data;
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-api]"), function (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var out = document.querySelector(".result");
      var same = form.querySelector("[data-same]");
      if (same && same.value !== form.elements[same.getAttribute("data-same")].value) {
        OH.say("Les deux nouveaux mots de passe diffèrent.", true);
        same.focus();
        return;
      }
      var method = form.getAttribute("data-method") || "POST";
      var r = await OH.api(method, form.getAttribute("data-api"), method === "DELETE" ? undefined : fields(form));
      if (!r.ok) {
        var msg = (r.body && r.body.error) || ("refus (" + r.status + ")");
        OH.say(msg, true);
        if (out) { out.textContent = msg; out.className = "result error"; }
        return;
      }
      var then = form.getAttribute("data-then") || "reload";
      if (then === "show-password") {
        out.textContent = "Mot de passe provisoire de « " + r.body.login + " » (affiché une seule fois) : ";
        out.appendChild(OH.el("code", { class: "temp-password" }, r.body.password));
        out.className = "result ok";
        OH.say("Mot de passe réinitialisé.");
      } else if (then === "reload") {
        location.reload();
      } else {
        location.href = then;
      }
    });
  });
})();
