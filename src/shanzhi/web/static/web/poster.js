// 上报海报: the print button (a script file, as the Content-Security-Policy allows no inline handler).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
