/* The consultation room's one Socket.IO connection. This module owns it and hands it to the room's
   scripts (chat.js, call.js) through astro.roomSocket(): one connection per room page, created on
   first use, with the account-level events every page of the room obeys. */
(function () {
  "use strict";
  var socket = null;
  window.astro = window.astro || {};
  window.astro.roomSocket = function () {
    if (!socket && window.io) {
      socket = window.io({ reconnectionDelay: 500, reconnectionDelayMax: 5000 });
      socket.on("account_suspended", function () { window.location.reload(); }); // the server logs the account out
      window.astro.followBalance(socket);
    }
    return socket;
  };
})();
