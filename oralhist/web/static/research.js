/* Researchers' requests and the deciders' answers (/demandes): every write through OH.api
   (CSRF header); the page is reloaded after a success, so the server's table is what is shown. */
"use strict";
(function () {
  var ask = document.getElementById("ask-form");
  if (ask) ask.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var f = ev.target;
    var r = await OH.api("POST", "/api/access-requests", {
      interviews: f.elements.interviews.value.split(/[\s,]+/).filter(Boolean), purpose: f.elements.purpose.value,
      project: f.elements.project.value, use: f.elements.use.value });
    if (r.ok) { OH.say("Demande envoyée."); location.assign("/demandes"); } else OH.say(r.body.error, true);
  });
  document.querySelectorAll("form.decide").forEach(function (form) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      var id = form.closest("tr").dataset.id, action = form.dataset.action, data = {};
      if (form.elements.days) data.days = Number(form.elements.days.value);
      if (form.elements.reason) data.reason = form.elements.reason.value;
      var r = await OH.api("POST", "/api/access-requests/" + encodeURIComponent(id) + "/" + action, data);
      if (r.ok) { OH.say("Décision enregistrée."); location.reload(); } else OH.say(r.body.error, true);
    });
  });
})();
