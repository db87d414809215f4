// Routing suggestions (templates/web/routing/_panel.html): a click on a suggestion fills the
// case type and, where the form has one, the unit; a suggestion the street's threshold calls
// confident fills the type beforehand, but never over a type the dispatcher already chose.
(function () {
  "use strict";
  if (window.shanzhiRouting) { return; }
  window.shanzhiRouting = true;

  function choose(name, value, onlyIfEmpty) {
    if (!value) { return; }
    document.querySelectorAll('select[name="' + name + '"], select[name$="-' + name + '"]').forEach(function (select) {
      if (onlyIfEmpty && select.value) { return; }
      if (select.querySelector('option[value="' + value + '"]')) { select.value = value; }
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.suggestion");
    if (!button) { return; }
    choose("case_type", button.dataset.type, false);
    choose("unit", button.dataset.unit, false);
    button.closest("ol").querySelectorAll("button.suggestion").forEach(function (other) {
      other.classList.toggle("chosen", other === button);
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id !== "routing-suggestions") { return; }
    var confident = event.target.querySelector("button.suggestion[data-preselect]");
    if (confident) { choose("case_type", confident.dataset.type, true); }
  });
})();
