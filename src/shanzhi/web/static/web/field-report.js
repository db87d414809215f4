// 巡查上报: fill the hidden coordinates when the phone allows it; without them the report still goes.
(function () {
  "use strict";
  var status = document.getElementById("geo-status");
  if (!status) { return; }
  var lat = document.getElementById(status.getAttribute("data-latitude"));
  var lng = document.getElementById(status.getAttribute("data-longitude"));
  if (!lat || !lng) { return; }
  if (lat.value || !navigator.geolocation) {
    if (!lat.value) { status.textContent = "此设备无法定位,可在“具体位置”中说明"; }
    return;
  }
  navigator.geolocation.getCurrentPosition(function (pos) {
    lat.value = pos.coords.latitude.toFixed(6);
    lng.value = pos.coords.longitude.toFixed(6);
    status.textContent = "已记录位置(精度约" + Math.round(pos.coords.accuracy) + "米)";
  }, function () {
    status.textContent = "未能获取位置,可在“具体位置”中说明";
  }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
})();
