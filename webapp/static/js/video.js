/* The video half of a video call (call.js owns the connection and the signaling): this side's camera
   (on, off, front or back), what the other side's camera is doing and why, the connection's quality
   from getStats with the offer to go audio only, the draggable preview, the speaker volume, and the
   chat as a drawer on phones. Nothing here touches the session: the call, its minutes and its rate
   go on whatever the cameras do.

   window.astro.videoCall(panel, {otherName, signal, stream, connection}) -> {start, tell, heard, stop}:
   start() opens the microphone and, when it can, the camera (a stream with audio at least); tell()
   sends this side's camera state as a "media" signal; heard(data) shows the other side's. */
(function () {
  "use strict";
  var t = window.astro.t;
  window.astro = window.astro || {};

  var POOR = { rtt: 0.5, loss: 0.08, fps: 8 };    // any of these: video cannot be sustained
  var FAIR = { rtt: 0.25, loss: 0.03, fps: 15 };
  var POOR_SAMPLES_BEFORE_OFFER = 3;               // seconds of poor readings in a row

  function reasonOf(error) {
    var name = error && error.name;
    return name === "NotAllowedError" || name === "SecurityError" ? "camera_refused" : "no_camera";
  }

  window.astro.videoCall = function (panel, call) {
    var room = panel.closest("[data-live-page=room]");
    var name = call.otherName;
    var stage = panel.querySelector("[data-video-stage]");
    var remoteVideo = panel.querySelector("[data-call-remote]");
    var selfView = panel.querySelector("[data-self-view]");
    var localVideo = panel.querySelector("[data-call-local]");
    var cameraButton = panel.querySelector("[data-call-camera]");
    var flipButton = panel.querySelector("[data-call-flip]");
    var audioOnlyButton = panel.querySelector("[data-call-audio-only]");
    var audioOffer = panel.querySelector("[data-audio-offer]");
    var cameraNote = panel.querySelector("[data-camera-note]");
    var remoteNote = panel.querySelector("[data-remote-camera-note]");
    var quality = panel.querySelector("[data-call-quality]");
    var qualityText = panel.querySelector("[data-quality-text]");
    var facing = "user";
    var reason = null;         // why this side's camera does not send; null while it does
    var remoteOn = false;
    var heardOnce = false;     // the other side has told its camera state at least once
    var poorSamples = 0;
    var last = null;           // the previous stats sample, for loss over the last second
    var busy = false;          // a camera change is under way
    var ended = false;
    var qualityTimer = setInterval(measure, 1000);

    var constraints = function () {
      return { facingMode: facing, width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } };
    };

    var OWN_NOTES = {
      camera_off: t("Your camera is off. %(name)s hears you but does not see you.", { name: name }),
      no_camera: t("No camera was found here: the call goes on as audio."),
      camera_refused: t("The camera is not allowed in this browser: the call goes on as audio. Allow it in the site settings to be seen."),
      audio_only: t("Audio only: the connection is too weak for video. Turn your camera on to try video again."),
    };
    var REMOTE_NOTES = {
      camera_off: t("%(name)s turned the camera off.", { name: name }),
      no_camera: t("%(name)s has no camera: the call goes on as audio.", { name: name }),
      camera_refused: t("%(name)s did not allow the camera: the call goes on as audio.", { name: name }),
      audio_only: t("%(name)s switched to audio only: the connection is too weak for video.", { name: name }),
    };

    function cameraTrack() {
      var stream = call.stream();
      var tracks = stream ? stream.getVideoTracks() : [];
      return tracks.length ? tracks[0] : null;
    }

    function videoSender() {
      var pc = call.connection();
      if (!pc) return null;
      var found = pc.getTransceivers().filter(function (transceiver) {
        return transceiver.receiver.track && transceiver.receiver.track.kind === "video" && !transceiver.stopped;
      });
      return found.length ? found[0].sender : null;
    }

    // This side's camera as the page shows it and the other side is told.
    function showOwn() {
      var on = reason === null && !!cameraTrack();
      panel.dataset.localVideo = on ? "on" : "off";
      selfView.classList.toggle("is-off", !on);
      selfView.classList.toggle("is-mirrored", facing === "user"); // a selfie reads as a mirror; the back camera does not
      cameraButton.setAttribute("aria-pressed", String(!on));
      cameraButton.textContent = on ? t("Camera off") : t("Camera on");
      cameraButton.disabled = busy || ended;
      audioOnlyButton.disabled = busy || ended || (!on && !remoteOn);
      cameraNote.hidden = on;
      cameraNote.textContent = on ? "" : OWN_NOTES[reason] || "";
    }

    function tell() {
      var on = reason === null && !!cameraTrack();
      call.signal("media", on ? { video: true, reason: null } : { video: false, reason: reason || "camera_off" });
    }

    // Put `track` (or none) on the stream, the preview and the connection, and tell the other side.
    function use(track, why) {
      var stream = call.stream();
      stream.getVideoTracks().forEach(function (old) {
        if (old !== track) { old.stop(); stream.removeTrack(old); }
      });
      if (track && stream.getVideoTracks().indexOf(track) < 0) stream.addTrack(track);
      reason = track ? null : why;
      localVideo.srcObject = track ? new MediaStream([track]) : null;
      var sender = videoSender();
      var replaced = sender ? sender.replaceTrack(track).catch(function () {}) : Promise.resolve();
      return replaced.then(function () { showOwn(); tell(); });
    }

    function openCamera() {
      return navigator.mediaDevices.getUserMedia({ video: constraints(), audio: false }).then(function (stream) {
        return stream.getVideoTracks()[0];
      });
    }

    function change(work) {
      if (busy || ended) return;
      busy = true;
      showOwn();
      work().catch(function (error) { return use(null, reasonOf(error)); }).then(function () {
        busy = false;
        showOwn();
      });
    }

    function start() {
      return navigator.mediaDevices.getUserMedia({ audio: true, video: constraints() }).then(function (stream) {
        reason = null;
        localVideo.srcObject = new MediaStream(stream.getVideoTracks());
        offerFlip();
        showOwn();
        return stream;
      }, function (error) {
        var why = reasonOf(error);
        return navigator.mediaDevices.getUserMedia({ audio: true, video: false }).then(function (stream) {
          reason = why;
          showOwn();
          return stream;
        });
      });
    }

    // "Switch camera" only where there is more than one (a phone's front and back).
    function offerFlip() {
      if (!navigator.mediaDevices.enumerateDevices) return;
      navigator.mediaDevices.enumerateDevices().then(function (devices) {
        var cameras = devices.filter(function (device) { return device.kind === "videoinput"; });
        flipButton.hidden = cameras.length < 2;
      }).catch(function () {});
    }

    cameraButton.addEventListener("click", function () {
      if (reason === null && cameraTrack()) change(function () { return use(null, "camera_off"); });
      else change(function () { return openCamera().then(function (track) { offerFlip(); return use(track); }); });
    });

    flipButton.addEventListener("click", function () {
      change(function () {
        facing = facing === "user" ? "environment" : "user";
        var current = cameraTrack();
        if (current) current.stop(); // a phone may not open its second camera while the first is open
        return openCamera().then(function (track) { return use(track); });
      });
    });

    function audioOnly() {
      audioOffer.hidden = true;
      poorSamples = 0;
      change(function () { return use(null, "audio_only"); });
    }
    audioOnlyButton.addEventListener("click", audioOnly);
    panel.querySelector("[data-call-audio-only-offer]").addEventListener("click", audioOnly);

    // The other side's camera state. Audio only is for the whole call: this side's camera goes off too.
    function heard(data) {
      // The first word from the other side is answered with this side's state: if the one this side
      // sent when it connected was lost (sent before the other was listening), the other hears it now.
      if (!heardOnce) { heardOnce = true; tell(); }
      remoteOn = !!(data && data.video);
      panel.dataset.remoteVideo = remoteOn ? "on" : "off";
      remoteNote.textContent = remoteOn ? "" : REMOTE_NOTES[data && data.reason] || REMOTE_NOTES.camera_off;
      if (!remoteOn && data && data.reason === "audio_only" && reason === null && cameraTrack()) {
        change(function () { return use(null, "audio_only"); });
      }
      showOwn();
    }

    // ------------------------------------------------------------ the connection's quality

    function measure() {
      var pc = call.connection();
      if (!pc || pc.connectionState !== "connected") return;
      pc.getStats().then(function (report) {
        var sample = { rtt: null, lost: 0, received: 0, fps: null, frames: 0 };
        var pairId = null;
        report.forEach(function (stat) {
          if (stat.type === "transport" && stat.selectedCandidatePairId) pairId = stat.selectedCandidatePairId;
        });
        report.forEach(function (stat) {
          if (stat.type === "candidate-pair" && (stat.id === pairId || (!pairId && stat.nominated && stat.state === "succeeded"))) {
            if (typeof stat.currentRoundTripTime === "number") sample.rtt = stat.currentRoundTripTime;
          }
          if (stat.type === "inbound-rtp") {
            sample.lost += stat.packetsLost || 0;
            sample.received += stat.packetsReceived || 0;
            if (stat.kind === "video") {
              sample.frames = stat.framesDecoded || 0;
              if (typeof stat.framesPerSecond === "number") sample.fps = stat.framesPerSecond;
            }
          }
        });
        judge(sample);
      }).catch(function () {});
    }

    function judge(sample) {
      var loss = 0;
      if (last) {
        var lost = Math.max(0, sample.lost - last.lost);
        var got = Math.max(0, sample.received - last.received);
        loss = lost + got ? lost / (lost + got) : 0;
      }
      last = sample;
      var watching = remoteOn; // frames per second count only while the other side sends video
      var fps = watching ? sample.fps || 0 : null;
      var level = "good";
      if ((sample.rtt !== null && sample.rtt > POOR.rtt) || loss > POOR.loss || (fps !== null && fps < POOR.fps)) level = "poor";
      else if ((sample.rtt !== null && sample.rtt > FAIR.rtt) || loss > FAIR.loss || (fps !== null && fps < FAIR.fps)) level = "fair";
      quality.dataset.quality = level;
      quality.dataset.rtt = sample.rtt === null ? "" : String(Math.round(sample.rtt * 1000));
      quality.dataset.loss = (loss * 100).toFixed(1);
      quality.dataset.fps = fps === null ? "" : String(Math.round(fps));
      panel.dataset.framesDecoded = String(sample.frames);
      var parts = [{ good: t("Good connection"), fair: t("Fair connection"), poor: t("Weak connection") }[level]];
      if (sample.rtt !== null) parts.push(quality.dataset.rtt + " ms");
      parts.push(t("%(percent)s%% loss", { percent: Math.round(loss * 100) }));
      if (fps !== null) parts.push(quality.dataset.fps + " fps");
      qualityText.textContent = parts.join(" · ");
      var videoFlows = remoteOn || (reason === null && !!cameraTrack());
      poorSamples = level === "poor" && videoFlows ? poorSamples + 1 : 0;
      if (poorSamples >= POOR_SAMPLES_BEFORE_OFFER) audioOffer.hidden = false;
      else if (!videoFlows) audioOffer.hidden = true;
    }

    // ------------------------------------------------------------ the preview, the speaker, the chat

    // Drag the preview anywhere on the picture (touch, mouse or pen); arrow keys move it too.
    var drag = null;
    function place(left, top) {
      var box = stage.getBoundingClientRect();
      var self = selfView.getBoundingClientRect();
      selfView.style.left = Math.min(Math.max(0, left), box.width - self.width) + "px";
      selfView.style.top = Math.min(Math.max(0, top), box.height - self.height) + "px";
      selfView.style.right = "auto";
      selfView.style.bottom = "auto";
    }
    selfView.addEventListener("pointerdown", function (event) {
      var self = selfView.getBoundingClientRect();
      drag = { x: event.clientX - self.left, y: event.clientY - self.top };
      selfView.setPointerCapture(event.pointerId);
    });
    selfView.addEventListener("pointermove", function (event) {
      if (!drag) return;
      var box = stage.getBoundingClientRect();
      place(event.clientX - box.left - drag.x, event.clientY - box.top - drag.y);
    });
    ["pointerup", "pointercancel"].forEach(function (type) {
      selfView.addEventListener(type, function () { drag = null; });
    });
    selfView.tabIndex = 0;
    selfView.addEventListener("keydown", function (event) {
      var steps = { ArrowLeft: [-16, 0], ArrowRight: [16, 0], ArrowUp: [0, -16], ArrowDown: [0, 16] }[event.key];
      if (!steps) return;
      event.preventDefault();
      var box = stage.getBoundingClientRect();
      var self = selfView.getBoundingClientRect();
      place(self.left - box.left + steps[0], self.top - box.top + steps[1]);
    });

    panel.querySelector("[data-call-volume]").addEventListener("input", function (event) {
      remoteVideo.volume = Number(event.target.value) / 100;
    });

    // On phones the chat is a drawer over the call; the button counts what arrived while it was shut.
    var toggle = panel.querySelector("[data-chat-toggle]");
    var unread = panel.querySelector("[data-chat-unread]");
    var unreadCount = 0;
    function openChat(open) {
      room.classList.toggle("chat-open", open);
      toggle.setAttribute("aria-expanded", String(open));
      if (open) { unreadCount = 0; unread.hidden = true; }
    }
    toggle.addEventListener("click", function () { openChat(!room.classList.contains("chat-open")); });
    var closer = room.querySelector("[data-chat-close]");
    if (closer) closer.addEventListener("click", function () { openChat(false); toggle.focus(); });
    new MutationObserver(function (changes) {
      if (room.classList.contains("chat-open") || toggle.offsetParent === null) return; // open, or beside the call
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType === 1 && !node.classList.contains("msg-own")) unreadCount += 1;
        });
      });
      unread.hidden = unreadCount === 0;
      unread.textContent = unreadCount ? " (" + unreadCount + " new)" : "";
    }).observe(room.querySelector("#messages"), { childList: true });

    function stop() {
      ended = true;
      clearInterval(qualityTimer);
      localVideo.srcObject = null;
      audioOffer.hidden = true;
      quality.dataset.quality = "ended";
      qualityText.textContent = t("Call ended");
      showOwn();
    }

    // The stream is the call's once start() has given it: the preview and the buttons say so.
    function started() { showOwn(); }

    return { start: start, started: started, tell: tell, heard: heard, stop: stop };
  };
})();
