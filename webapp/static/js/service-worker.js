/* The service worker: shows what the server pushes (services/notifications/push.py) while no tab is open, and
   opens the page a notification leads to when it is tapped (or one of its action buttons). */
"use strict";

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  var message = {};
  try { message = event.data ? event.data.json() : {}; } catch (error) { message = { title: "AstroConsult", body: event.data.text() }; }
  var options = {
    body: message.body || "",
    tag: message.id || undefined,
    data: { url: message.url || "/", actions: message.actions || [] },
    actions: (message.actions || []).map(function (action) { return { action: action.action, title: action.title }; }),
    requireInteraction: message.kind === "request_incoming",
  };
  event.waitUntil(self.registration.showNotification(message.title || "AstroConsult", options));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var data = event.notification.data || {};
  var chosen = (data.actions || []).filter(function (action) { return action.action === event.action; })[0];
  var url = new URL((chosen && chosen.url) || data.url || "/", self.location.origin).href;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (windows) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i].url === url && "focus" in windows[i]) return windows[i].focus();
    }
    return self.clients.openWindow(url);
  }));
});
