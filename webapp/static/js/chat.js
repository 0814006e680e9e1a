/* The consultation room. The server is the only source of truth: messages come from acks and
   `message` events and are kept once each by seq; the session bar shows what the server sends.
   On every (re)connect the room re-joins with the last seq it has, receives what it missed, in
   order, and re-sends unacknowledged messages under the same client_id (stored once).
   Photos and PDFs are uploaded over HTTP (with a progress bar) under a client_id of their own,
   kept and uploaded again after a reconnect like text (stored once); they come back as `image` and
   `file` messages like any other.
   Ticks on one's own messages: … sending, ✓ stored, ✓✓ delivered (the other client acknowledged it
   with mark_delivered), blue ✓✓ read. This client acknowledges what it receives the same way. */
(function () {
  "use strict";
  var t = window.astro.t;
  var room = document.querySelector("[data-live-page=room]");
  var socket = room && window.astro && window.astro.roomSocket(); // room_socket.js owns the connection
  if (!socket) return;

  var sessionId = room.dataset.sessionId;
  var me = room.dataset.userId;
  var list = room.querySelector("#messages");
  var input = room.querySelector("#composer-input");
  var form = room.querySelector(".composer");
  var composerError = room.querySelector(".composer-error");
  var typingLine = room.querySelector(".typing");
  var lastSeq = Number(list.dataset.lastSeq || 0);
  var otherReadSeq = Number(room.dataset.otherReadSeq || 0);
  var otherDeliveredSeq = Math.max(Number(room.dataset.otherDeliveredSeq || 0), otherReadSeq);
  var readSent = 0;
  var deliveredSent = 0;
  var outbox = new Map(); // client_id -> {content, item}, in send order
  var ended = false;
  var seen = new Set();
  // Times as the server writes them: in the account's zone (body data-zone), 24-hour.
  var clock = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: document.body.dataset.zone || undefined });
  list.querySelectorAll("[data-seq]").forEach(function (item) { seen.add(Number(item.dataset.seq)); });
  list.scrollTop = list.scrollHeight; // the newest first in view, as in every messenger

  // ---------------------------------------------------------------- connection

  socket.on("connect", join);
  socket.on("disconnect_reason", function (event) { // the server closed this connection, and says why
    ended = true;
    var line = room.querySelector(".connection-banner");
    line.textContent = event.message;
    line.hidden = false;
  });
  socket.on("disconnect", function () { banner(true); });
  socket.io.on("reconnect_attempt", function () { banner(true); });

  function join() {
    socket.timeout(10000).emit("join_session", { session_id: sessionId, after_seq: lastSeq }, function (error, ack) {
      if (error) { setTimeout(function () { if (socket.connected) join(); }, 2000); return; }
      if (!ack.ok) { showError(ack.message); return; }
      banner(false);
      room.dispatchEvent(new CustomEvent("room:joined", { detail: ack.session }));
      ack.messages.forEach(render);
      applyReceipts(ack.delivered, ack.read);
      updateBar(ack.session);
      if (ack.session.status !== "active") { finish(); return; }
      if (ack.has_more) { join(); return; }
      flushOutbox();
      markDelivered();
      markRead();
    });
  }

  function banner(reconnecting) {
    room.querySelector(".connection-banner").hidden = !reconnecting || ended;
  }

  // ---------------------------------------------------------------- messages

  function render(message) {
    if (message.session_id !== sessionId || seen.has(message.seq)) return;
    seen.add(message.seq);
    lastSeq = Math.max(lastSeq, message.seq);
    var pending = message.client_id && (outbox.get(message.client_id) || uploads.get(message.client_id));
    var item = build(message);
    if (pending && message.sender_id === me) {
      outbox.delete(message.client_id);
      uploads.delete(message.client_id);
      pending.item.remove();
    }
    var after = null;
    list.querySelectorAll("[data-seq]").forEach(function (other) {
      if (!after && Number(other.dataset.seq) > message.seq) after = other;
    });
    list.insertBefore(item, after || firstPending());
    item.scrollIntoView({ block: "end" });
  }

  function firstPending() {
    return list.querySelector(".msg-pending");
  }

  // A live message is a clone of the room's blank specimen of its shape, rendered by the server from
  // templates/consultations/_message.html (the one place a message's markup is written), filled in here.
  var specimens = room.querySelector("template[data-message-specimens]").content;
  var attachmentUrl = form.dataset.attachmentUrl.replace("00000000-0000-0000-0000-000000000000", "");
  function build(message) {
    var kind = message.message_type === "system" ? "system" : message.sender_id === me ? "own" : "other";
    var file = message.metadata || {};
    var shape = message.message_type === "image" || message.message_type === "file" ? (file.removed ? "removed" : message.message_type) : "text";
    var item = specimens.querySelector('[data-specimen="' + kind + "-" + shape + '"]').cloneNode(true);
    delete item.dataset.specimen;
    if (message.seq) item.dataset.seq = message.seq;
    if (message.client_id) item.dataset.clientId = message.client_id;
    var text = item.querySelector(".msg-text, .file-card-name");
    if (text) text.textContent = message.content; // never innerHTML: content is shown as typed
    var link = item.querySelector("a");
    if (link) fillAttachment(link, message, file);
    var time = item.querySelector("time");
    var sent = message.sent_at ? new Date(message.sent_at) : new Date();
    time.dateTime = sent.toISOString();
    time.textContent = clock.format(sent);
    var ticks = item.querySelector(".ticks");
    if (ticks) setTicks(ticks, tickState(message.seq));
    return item;
  }

  function fillAttachment(link, message, file) {
    link.href = attachmentUrl + file.attachment_id;
    var image = link.querySelector("img");
    if (image) {
      image.src = link.href + "/thumbnail";
      image.alt += message.content; // the specimen's alt ("Photo: ") and the photo's name
      if (file.width) { image.width = file.width; image.height = file.height; }
      else { image.removeAttribute("width"); image.removeAttribute("height"); }
    }
    var facts = link.querySelector(".file-card-facts");
    if (facts) facts.textContent = ["PDF"].concat(file.pages ? [file.pages + (file.pages === 1 ? " page" : " pages")] : []).concat([sizeWords(file.size || 0)]).join(" · ");
  }

  function sizeWords(size) { // as services/messaging/attachments.py size_words writes it
    if (size >= 1048576) return String(Number((size / 1048576).toFixed(1))) + " MB";
    return Math.max(Math.ceil(size / 1024), 1) + " KB";
  }

  var viewer = room.querySelector("[data-photo-viewer]");
  list.addEventListener("click", function (event) {
    var photo = event.target.closest("[data-photo]");
    if (!photo || !viewer || !viewer.showModal) return; // no <dialog>: the link opens the photo
    event.preventDefault();
    var image = viewer.querySelector("img");
    image.src = photo.href;
    image.alt = photo.querySelector("img").alt;
    viewer.showModal();
  });

  function tickState(seq) {
    if (!seq) return "sending";
    if (seq <= otherReadSeq) return "read";
    return seq <= otherDeliveredSeq ? "delivered" : "stored";
  }

  function setTicks(ticks, state) {
    ticks.textContent = { sending: "…", stored: "✓", delivered: "✓✓", read: "✓✓", failed: "!" }[state];
    ticks.setAttribute("aria-label", { sending: t("Sending"), stored: t("Sent"), delivered: t("Delivered"), read: t("Read"), failed: t("Not sent") }[state]);
    ticks.dataset.state = state;
  }

  function send(content) {
    var clientId = newClientId();
    var item = build({ session_id: sessionId, sender_id: me, message_type: "text", content: content, client_id: clientId });
    item.classList.add("msg-pending");
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
    outbox.set(clientId, { content: content, item: item });
    emitSend(clientId);
  }

  function emitSend(clientId) {
    var entry = outbox.get(clientId);
    if (!entry || !socket.connected) return; // kept; sent again after the next join
    socket.timeout(10000).emit("send_message", { session_id: sessionId, client_id: clientId, content: entry.content }, function (error, ack) {
      if (error) return; // no answer: the outbox keeps it for the reconnect
      if (ack.ok) { render(ack.message); return; }
      if (ack.error === "rate_limited") { setTimeout(function () { emitSend(clientId); }, 1200); return; }
      outbox.delete(clientId);
      entry.item.classList.add("msg-failed");
      setTicks(entry.item.querySelector(".ticks"), "failed");
      showError(ack.message);
    });
  }

  function flushOutbox() {
    Array.from(outbox.keys()).forEach(emitSend);
    Array.from(uploads.keys()).forEach(upload);
  }

  // ---------------------------------------------------------------- photos and documents

  var uploads = new Map(); // client_id -> {file, item, bar, sending}, kept until the server has it
  var maxBytes = Number(form.dataset.maxBytes);
  room.querySelectorAll("[data-attach-input]").forEach(function (picker) {
    picker.addEventListener("change", function () {
      Array.from(picker.files || []).forEach(attach);
      picker.value = ""; // the same file may be chosen again
    });
  });

  function attach(file) {
    if (ended) return;
    if (file.size > maxBytes) { showError(t("This file is too large: a file can have at most %(size)s.", { size: sizeWords(maxBytes) })); return; }
    showError(null);
    var clientId = newClientId();
    var item = build({ session_id: sessionId, sender_id: me, message_type: "text", content: file.name, client_id: clientId });
    item.classList.add("msg-pending");
    var bar = document.createElement("progress");
    bar.className = "upload-progress";
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", t("Sending %(name)s", { name: file.name }));
    item.insertBefore(bar, item.querySelector(".msg-meta"));
    list.appendChild(item);
    item.scrollIntoView({ block: "end" });
    uploads.set(clientId, { file: file, item: item, bar: bar });
    upload(clientId);
  }

  function upload(clientId) {
    var entry = uploads.get(clientId);
    if (!entry || entry.sending || ended) return;
    entry.sending = true;
    var body = new FormData();
    body.append("csrf_token", form.dataset.csrf);
    body.append("client_id", clientId);
    body.append("file", entry.file, entry.file.name);
    var request = new XMLHttpRequest(); // fetch() reports no upload progress
    request.open("POST", form.dataset.uploadUrl);
    request.setRequestHeader("Accept", "application/json");
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) entry.bar.value = Math.round((event.loaded / event.total) * 100);
    });
    request.addEventListener("loadend", function () {
      entry.sending = false;
      var answer = null;
      try { answer = JSON.parse(request.responseText); } catch (error) { answer = null; }
      if (request.status === 200 || request.status === 201) { render(answer); return; }
      if (request.status === 0 || request.status >= 500) { // no answer: kept, sent again (the same client_id)
        entry.bar.removeAttribute("value");
        setTimeout(function () { if (socket.connected) upload(clientId); }, 3000);
        return;
      }
      if (request.status === 429) { // over the chat's pace: sent again shortly
        setTimeout(function () { upload(clientId); }, 5000);
        return;
      }
      uploads.delete(clientId);
      entry.bar.remove();
      entry.item.classList.add("msg-failed");
      setTicks(entry.item.querySelector(".ticks"), "failed");
      showError((answer && answer.message) || t("This file could not be sent."));
    });
    request.send(body);
  }

  function newClientId() {
    return window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  socket.on("message", function (message) {
    render(message);
    paymentLanded(message);
    if (message.sender_id !== me) markDeliveredSoon();
    markReadSoon();
  });

  // ---------------------------------------------------------------- delivery and read receipts, typing

  function markDelivered() {
    if (ended || lastSeq <= deliveredSent || !socket.connected) return;
    deliveredSent = lastSeq;
    socket.emit("mark_delivered", { session_id: sessionId, up_to_seq: lastSeq });
  }
  var deliveredTimer;
  function markDeliveredSoon() { clearTimeout(deliveredTimer); deliveredTimer = setTimeout(markDelivered, 100); }

  function markRead() {
    if (document.visibilityState !== "visible" || ended) return;
    var newest = 0;
    list.querySelectorAll(".msg-other[data-seq], .msg-system[data-seq]").forEach(function (item) {
      newest = Math.max(newest, Number(item.dataset.seq));
    });
    if (newest > readSent) {
      readSent = newest;
      socket.emit("mark_read", { session_id: sessionId, up_to_seq: newest });
    }
  }
  var readTimer;
  function markReadSoon() { clearTimeout(readTimer); readTimer = setTimeout(markRead, 300); }
  document.addEventListener("visibilitychange", markRead);

  function applyReceipts(delivered, read) {
    Object.keys(read || {}).forEach(function (userId) {
      if (userId !== me) otherReadSeq = Math.max(otherReadSeq, read[userId]);
    });
    Object.keys(delivered || {}).forEach(function (userId) {
      if (userId !== me) otherDeliveredSeq = Math.max(otherDeliveredSeq, delivered[userId]);
    });
    otherDeliveredSeq = Math.max(otherDeliveredSeq, otherReadSeq); // what was read was received
    list.querySelectorAll(".msg-own[data-seq]").forEach(function (item) {
      var ticks = item.querySelector(".ticks");
      if (ticks) setTicks(ticks, tickState(Number(item.dataset.seq)));
    });
  }

  function receipt(name) {
    return function (event) {
      if (event.session_id !== sessionId || event.user_id === me) return;
      var marks = {};
      marks[event.user_id] = event.up_to_seq;
      if (name === "read") applyReceipts(null, marks); else applyReceipts(marks, null);
    };
  }
  socket.on("delivered", receipt("delivered"));
  socket.on("read", receipt("read"));

  var typingTimer, typingShownTimer, typingSent = false;
  input.addEventListener("input", function () {
    if (!typingSent) { typingSent = true; socket.emit("typing", { session_id: sessionId, is_typing: true }); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 2500);
  });
  function stopTyping() {
    if (typingSent) { typingSent = false; socket.emit("typing", { session_id: sessionId, is_typing: false }); }
  }
  socket.on("typing", function (event) {
    if (event.session_id !== sessionId || event.user_id === me) return;
    typingLine.hidden = !event.is_typing;
    clearTimeout(typingShownTimer);
    if (event.is_typing) typingShownTimer = setTimeout(function () { typingLine.hidden = true; }, 6000);
  });

  // ---------------------------------------------------------------- composer

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var content = input.value.trim();
    if (!content || ended) return;
    if (content.length > 2000) { showError("A message can have at most 2000 characters."); return; }
    input.value = "";
    showError(null);
    stopTyping();
    send(content);
  });
  // Enter sends only with a physical keyboard (a fine pointer that hovers); on a touch keyboard
  // Enter adds a line and the Send button sends.
  var physicalKeyboard = window.matchMedia && window.matchMedia("(hover: hover) and (pointer: fine)").matches;
  room.querySelector(".composer-hint").hidden = !physicalKeyboard;
  input.addEventListener("keydown", function (event) {
    if (physicalKeyboard && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  room.dataset.composerReady = "true"; // Enter sends from now on (what a browser test waits for before typing)
  input.addEventListener("focus", function () { // the on-screen keyboard shrinks the room: keep the newest in view
    setTimeout(function () { list.scrollTop = list.scrollHeight; }, 250);
  });

  function showError(message) {
    composerError.hidden = !message;
    composerError.textContent = message || "";
  }

  // ---------------------------------------------------------------- the session bar

  var startedAt = Date.parse(room.dataset.startedAt);
  var clockOffset = Date.parse(room.dataset.serverNow) - Date.now();
  var money = window.astro.money;
  function updateBar(state) {
    if (!state || state.session_id !== sessionId) return;
    if (state.server_now) clockOffset = Date.parse(state.server_now) - Date.now();
    ["billed_minutes", "minutes_left"].forEach(function (key) {
      var field = room.querySelector('[data-bar="' + key + '"]');
      if (field && state[key] !== null && state[key] !== undefined) field.textContent = state[key];
    });
    if (state.cap_minutes !== undefined) { // the user's limit: shown while there is one
      var cap = room.querySelector("[data-cap-figure]");
      cap.hidden = !state.cap_minutes;
      cap.querySelector("dd").textContent = state.cap_minutes ? state.cap_minutes + " min" : "";
    }
    ["total_cost", "balance"].forEach(function (key) {
      var field = room.querySelector('[data-bar="' + key + '"]');
      if (field && state[key] !== null && state[key] !== undefined) field.textContent = money(state[key]);
    });
  }
  function tick() {
    if (ended) return;
    var seconds = Math.max(0, Math.floor((Date.now() + clockOffset - startedAt) / 1000));
    var minutes = Math.floor(seconds / 60);
    room.querySelector('[data-bar="elapsed"]').textContent = minutes + ":" + String(seconds % 60).padStart(2, "0");
  }
  setInterval(tick, 1000);
  tick();
  socket.on("billing_tick", function (state) {
    updateBar(state);
    var threshold = Number(room.dataset.lowBalanceMinutes || 0);
    if (state.session_id === sessionId && state.minutes_left !== null && state.minutes_left >= threshold) lowBalance(null);
  });
  socket.on("balance_low", function (event) {
    if (event.session_id !== sessionId) return;
    updateBar({ session_id: sessionId, balance: event.balance, minutes_left: event.minutes_left });
    lowBalance(event.minutes_left);
  });
  function lowBalance(minutesLeft) {
    var warning = room.querySelector(".low-balance");
    if (!warning) return;
    warning.hidden = minutesLeft === null;
    if (minutesLeft !== null) {
      warning.querySelector("[data-low-minutes]").textContent = minutesLeft;
      topupSheet(true);
    }
  }

  // The in-room top-up: a sheet above the composer (the composer and End stay in view) that
  // closes itself when the payment lands; nothing in it leaves the room.
  var sheet = room.querySelector("[data-room-topup]");
  var opener = room.querySelector("[data-topup-open]");
  function topupSheet(open) {
    if (!sheet || ended) return;
    sheet.hidden = !open;
    if (opener) opener.setAttribute("aria-expanded", String(open));
    if (open) list.scrollTop = list.scrollHeight;
  }
  room.addEventListener("click", function (event) {
    if (event.target.closest("[data-topup-open]")) topupSheet(sheet.hidden);
    if (event.target.closest("[data-topup-close]")) topupSheet(false);
    var more = event.target.closest("[data-session-more]");
    if (more) {
      var open = more.getAttribute("aria-expanded") !== "true";
      more.setAttribute("aria-expanded", String(open));
      room.classList.toggle("show-more", open);
    }
  });
  function paymentLanded(message) {
    if (message.session_id !== sessionId || !message.metadata || message.metadata.kind !== "topup") return;
    topupSheet(false);
    lowBalance(null);
  }

  // ---------------------------------------------------------------- presence and the end

  setInterval(function () { if (socket.connected && !ended) socket.emit("presence", { session_id: sessionId }); }, 15000);

  socket.on("session_ended", function (event) {
    if (event.session_id !== sessionId) return;
    updateBar({ session_id: sessionId, billed_minutes: event.billed_minutes, total_cost: event.total_cost });
    finish();
  });

  function finish() {
    if (!ended) room.dispatchEvent(new CustomEvent("room:ended"));
    ended = true;
    room.querySelector(".ended-banner").hidden = false;
    room.querySelector(".connection-banner").hidden = true;
    input.disabled = true;
    form.querySelector("button").disabled = true;
    room.querySelectorAll("[data-composer-lock] button, [data-attach-input]").forEach(function (control) { control.disabled = true; });
    room.querySelector(".composer-attach").classList.add("is-locked");
    typingLine.hidden = true;
    if (sheet) sheet.hidden = true;
    if (opener) opener.disabled = true;
  }
})();
