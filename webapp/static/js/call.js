/* The call of a call session: WebRTC audio, and video for a video call, between the two browsers.
   Signaling travels on the room's own Socket.IO connection (chat.js) as call_signal events, which the
   server relays between the session's two participants only. The user calls and the astrologer
   answers: the caller sends an offer whenever it (re)joins; the callee says "ready" when it (re)joins
   and no offer came, and the caller answers every "ready" with a fresh offer, so either side may
   arrive, reload or reconnect first. The media state is reported (call_state): connected answers the
   call; failed starts the server's reconnect grace, and the caller offers again to recover.

   A video call always negotiates a video line both ways, with or without a camera, so a camera that
   comes on later (turned on, switched, allowed) is a replaceTrack and never a renegotiation. Each side
   tells the other whether its camera sends and why not (call_signal kind "media"): turned off, none,
   refused, or audio only. A connection too weak for video (from getStats: round-trip time, packet
   loss, frames per second) offers "audio only"; none of this touches the session or its billing. */
(function () {
  "use strict";
  var t = window.astro.t;
  var room = document.querySelector("[data-live-page=room]");
  var panel = room && room.querySelector("[data-call]");
  if (!panel) return;
  var video = panel.dataset.video === "true";
  var otherName = panel.dataset.otherName || t("The other side");
  var labels = {
    starting: t("Starting the call…"),
    microphone: video ? t("Allow the camera and microphone to start the call.") : t("Allow the microphone to start the call."),
    calling: t("Calling… waiting for the other side to join."),
    connecting: t("Connecting…"),
    connected: t("Connected"),
    reconnecting: t("Connection lost; reconnecting…"),
    ended: t("The call has ended."),
    "no-microphone": t("The microphone is off or blocked; allow it in the browser to talk. The chat still works."),
    unsupported: t("This browser cannot make calls; the chat still works."),
  };
  var stateLine = panel.querySelector("[data-call-state]");
  function show(name) {
    stateLine.dataset.callState = name;
    stateLine.textContent = labels[name];
  }
  var socket = window.astro && window.astro.roomSocket(); // the chat's connection (room_socket.js)
  if (!socket || !window.RTCPeerConnection || !navigator.mediaDevices) { show("unsupported"); return; }

  var sessionId = room.dataset.sessionId;
  var me = room.dataset.userId;
  var caller = panel.dataset.role === "caller";
  var iceServers = JSON.parse(panel.dataset.iceServers || "[]");
  var player = panel.querySelector(video ? "[data-call-remote]" : "[data-call-audio]");
  var meter = panel.querySelector("[data-call-level]");
  var muteButton = panel.querySelector("[data-call-mute]");
  var local = null;      // this side's microphone (and camera) stream
  var pc = null;         // the current peer connection (a new one per offer)
  var pendingIce = [];   // candidates that came before the remote description
  var offered = false;   // the callee got an offer since its last join
  var reported = null;   // the last media state told to the server
  var ended = false;
  var meterTimer = null;

  function signal(kind, data) {
    socket.emit("call_signal", { session_id: sessionId, kind: kind, data: data === undefined ? null : data });
  }

  function report(state) {
    if (reported === state) return;
    reported = state;
    socket.emit("call_state", { session_id: sessionId, state: state });
  }

  function microphone() {
    if (local) return Promise.resolve(local);
    show("microphone");
    var start = video ? camera.start() : navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    return start.then(function (stream) {
      local = stream;
      if (video) camera.started();
      muteButton.disabled = false;
      return stream;
    });
  }

  function connection() {
    if (pc) pc.close();
    pendingIce = [];
    var current = new RTCPeerConnection({ iceServers: iceServers });
    pc = current;
    local.getTracks().forEach(function (track) { current.addTrack(track, local); });
    // A video line both ways even without a camera here, so one that comes on later needs no new offer.
    if (video && caller && !local.getVideoTracks().length) current.addTransceiver("video", { direction: "sendrecv" });
    var heard = new MediaStream();
    current.onicecandidate = function (event) {
      if (current === pc) signal("ice", event.candidate ? event.candidate.toJSON() : null);
    };
    current.ontrack = function (event) {
      heard.addTrack(event.track);
      player.srcObject = heard;
      if (event.track.kind === "audio") listen(event.receiver);
    };
    current.onconnectionstatechange = function () {
      if (current !== pc || ended) return;
      var state = current.connectionState;
      if (state === "connected") {
        show("connected");
        report("connected");
        if (video) camera.tell();
      }
      else if (state === "failed") { show("reconnecting"); report("failed"); if (caller) setTimeout(offer, 1000); }
      else if (state === "disconnected") show("reconnecting");
      else if (state === "connecting") show("connecting");
    };
    return current;
  }

  function remote(current, description) {
    return current.setRemoteDescription(description).then(function () {
      var queued = pendingIce;
      pendingIce = [];
      queued.forEach(function (candidate) { current.addIceCandidate(candidate).catch(function () {}); });
    });
  }

  function offer() {
    if (ended || !local) return;
    var current = connection();
    show(reported === "connected" ? "reconnecting" : "calling");
    current.createOffer()
      .then(function (description) { return current.setLocalDescription(description); })
      .then(function () { signal("offer", { type: "offer", sdp: current.localDescription.sdp }); })
      .catch(trouble);
  }

  function answer(description) {
    offered = true;
    var current = connection();
    show("connecting");
    remote(current, description)
      .then(function () {
        // The callee without a camera still answers the video line as sendrecv (a camera may come on).
        if (video) current.getTransceivers().forEach(function (transceiver) {
          if (transceiver.receiver.track.kind === "video") transceiver.direction = "sendrecv";
        });
        return current.createAnswer();
      })
      .then(function (reply) { return current.setLocalDescription(reply); })
      .then(function () { signal("answer", { type: "answer", sdp: current.localDescription.sdp }); })
      .catch(trouble);
  }

  function trouble() {
    if (ended) return;
    show("reconnecting");
    if (caller) setTimeout(offer, 2000);
  }

  socket.on("call_signal", function (event) {
    if (event.session_id !== sessionId || event.from === me || ended || !local) return;
    if (event.kind === "ready" && caller) offer();
    else if (event.kind === "offer" && !caller) answer(event.data);
    else if (event.kind === "answer" && caller && pc && pc.signalingState === "have-local-offer") remote(pc, event.data).catch(trouble);
    else if (event.kind === "ice" && pc) {
      if (pc.remoteDescription) pc.addIceCandidate(event.data).catch(function () {});
      else pendingIce.push(event.data);
    }
    else if (event.kind === "media" && video) camera.heard(event.data);
  });

  room.addEventListener("room:joined", function (event) {
    if (event.detail.status !== "active" || ended) return;
    reported = null; // tell the server again after a reconnect
    offered = false;
    microphone().then(function () {
      if (caller) { offer(); return; }
      show("calling");
      setTimeout(function () { if (!offered && !ended) signal("ready"); }, 1000);
    }).catch(function () { show("no-microphone"); });
  });

  // Hang up: the connection closed and the microphone and camera released (the browser's indicators go off).
  function hangUp() {
    ended = true;
    if (pc) pc.close();
    pc = null;
    if (local) local.getTracks().forEach(function (track) { track.stop(); });
    clearInterval(meterTimer);
    if (video) camera.stop();
  }

  room.addEventListener("room:ended", function () {
    hangUp();
    muteButton.disabled = true;
    meter.value = 0;
    show("ended");
  });
  // Leaving or reloading the page hangs up at once; the other side sees the media fail and the
  // caller's page, when it comes back, offers again.
  window.addEventListener("pagehide", hangUp);
  window.addEventListener("pageshow", function (event) { if (event.persisted) location.reload(); });

  muteButton.addEventListener("click", function () {
    if (!local) return;
    var muted = muteButton.getAttribute("aria-pressed") !== "true";
    local.getAudioTracks().forEach(function (track) { track.enabled = !muted; });
    muteButton.setAttribute("aria-pressed", String(muted));
    muteButton.textContent = muted ? t("Unmute") : t("Mute");
  });

  // The other side's loudness as the meter and data-level (0..1): the audio level WebRTC reports for
  // the received stream (RTP's audio level, else the inbound stats), read ten times a second, on a
  // decibel scale as sound meters show it (-60 dBov and below read 0, full scale 1). The reading
  // falls back slowly, so a syllable stays visible. No AudioContext: nothing is played twice.
  function listen(receiver) {
    clearInterval(meterTimer);
    var shown = 0;
    meterTimer = setInterval(function () {
      heardLevel(receiver).then(function (linear) {
        var value = linear > 0 ? Math.min(1, Math.max(0, 1 + Math.log10(linear) / 3)) : 0;
        shown = Math.max(value, shown - 0.05);
        meter.value = shown;
        panel.dataset.level = shown.toFixed(3);
      });
    }, 100);
  }

  function heardLevel(receiver) {
    var sources = receiver.getSynchronizationSources ? receiver.getSynchronizationSources() : [];
    if (sources.length && typeof sources[0].audioLevel === "number") return Promise.resolve(sources[0].audioLevel);
    return receiver.getStats().then(function (report) {
      var value = 0;
      report.forEach(function (stat) {
        if (stat.type === "inbound-rtp" && typeof stat.audioLevel === "number") value = stat.audioLevel;
      });
      return value;
    }).catch(function () { return 0; });
  }

  var camera = video ? window.astro.videoCall(panel, {
    otherName: otherName,
    signal: signal,
    stream: function () { return local; },
    connection: function () { return pc; },
  }) : null;
})();
