// 发生地 by search: a clicked result's code goes into the hidden input beside the search box.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var option = event.target.closest ? event.target.closest(".place-option") : null;
    if (!option) { return; }
    var picker = option.closest("[data-place-picker]");
    if (!picker) { return; }
    var value = picker.querySelector("[data-place-value]");
    value.value = option.getAttribute("data-code");
    picker.querySelector("[data-place-chosen]").textContent = "已选:" + option.getAttribute("data-label");
    picker.querySelector(".place-results").innerHTML = "";
    // Whoever listens for the place (the routing suggestions) hears it change.
    value.dispatchEvent(new Event("change", {bubbles: true}));
  });
  // Enter in the search box searches; it must not send the form with no place chosen.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.closest && event.target.closest("[data-place-picker]")) {
      event.preventDefault();
    }
  });
})();
