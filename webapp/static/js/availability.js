/* Live availability badges: every element with data-availability-for="<astrologer id>" follows the
   `availability` broadcasts of the public /marketplace Socket.IO namespace. */
(function () {
  "use strict";
  var t = window.astro.t;
  if (!window.io) return;
  var labels = { available: t("Available"), busy: t("Busy"), unavailable: t("Unavailable"), offline: t("Offline") };
  var socket = window.io("/marketplace");
  socket.on("availability", function (event) {
    var selector = '[data-availability-for="' + event.astrologer_id + '"]';
    document.querySelectorAll(selector).forEach(function (badge) {
      badge.classList.remove("status-" + badge.dataset.status);
      badge.classList.add("status-" + event.status);
      badge.dataset.status = event.status;
      badge.textContent = labels[event.status] || event.status;
    });
  });
})();
