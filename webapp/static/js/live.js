/* Personal live events over Socket.IO (default namespace, login required), for the pages that
   declare data-live-page="waiting" or "dashboard": the waiting room and the astrologer dashboard.
   (The consultation room has its own connection: room_socket.js, chat.js.)
   The server is the source of truth: on a change the page re-reads it (reload or htmx refresh). */
(function () {
  "use strict";
  var t = window.astro.t;
  if (!window.io) return;
  var page = document.querySelector("[data-live-page]");
  if (!page) return;
  var kind = page.dataset.livePage;
  var sessionId = page.dataset.sessionId;
  var socket = window.io();
  socket.on("account_suspended", function () { window.location.reload(); }); // the server logs the account out
  if (window.astro && window.astro.followBalance) window.astro.followBalance(socket);

  function mine(event) {
    return event && event.session_id === sessionId;
  }

  function minutes(seconds) {
    var value = Math.round(seconds / 60);
    return value < 1 ? "under 1 min" : value + " min";
  }

  if (kind === "waiting") {
    socket.on("queue_update", function (event) {
      if (!mine(event)) return;
      page.querySelector("[data-when=offered]").hidden = event.position !== 0;
      page.querySelector("[data-when=queued]").hidden = event.position === 0;
      page.querySelector("[data-position]").textContent = event.position;
      page.querySelector("[data-eta]").textContent = minutes(event.eta_seconds);
    });
    socket.on("session_started", function (event) { if (mine(event)) window.location.reload(); });
    socket.on("session_ended", function (event) { if (mine(event)) window.location.reload(); });
    // Anything missed while disconnected: the page itself is the truth.
    socket.io.on("reconnect", function () { window.location.reload(); });
  }

  if (kind === "dashboard") {
    var refresh = function () { if (window.htmx) window.htmx.trigger(document.body, "requests-changed"); };
    socket.on("session_requested", function (event) {
      refresh();
      if (event.queue_position === 0) announce(event);
    });
    ["request_withdrawn", "session_started", "session_ended"].forEach(function (name) { socket.on(name, refresh); });
    socket.io.on("reconnect", refresh);
    setUpNotifications();
  }

  function announce(event) {
    beep();
    if ("Notification" in window && Notification.permission === "granted") {
      var title = { chat: t("New chat request"), call: t("New call request"), video: t("New video call request") }[event.channel];
      new Notification(title || t("New request"), { body: t("%(name)s wants to talk to you.", { name: event.user_name }) });
    }
  }

  var audio;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.6);
    } catch (error) {
      /* no sound available: the panel still updates */
    }
  }

  function setUpNotifications() {
    document.body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-enable-notifications]");
      if (!button || !("Notification" in window)) return;
      Notification.requestPermission().then(showButton);
    });
    document.body.addEventListener("htmx:afterSwap", showButton);
    showButton();
  }

  function showButton() {
    document.querySelectorAll("[data-enable-notifications]").forEach(function (button) {
      button.hidden = !("Notification" in window) || Notification.permission !== "default";
    });
  }
})();
