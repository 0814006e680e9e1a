/* Site-wide behaviour. htmx swaps 422 responses (forms re-rendered with their errors)
   like successes; other 4xx/5xx stay errors and are not swapped. */
document.addEventListener("DOMContentLoaded", function () {
  if (!window.htmx) return;
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "422", swap: true },
    { code: "[45]..", swap: false, error: true },
  ];
});

/* Forms marked data-drop-empty send (and so push into the URL) only the fields that have a value:
   /astrologers?language=Hindi rather than ?q=&specialization=&language=Hindi&... */
document.addEventListener("htmx:configRequest", function (event) {
  if (event.detail.verb !== "get" || !event.detail.elt.closest("[data-drop-empty]")) return;
  var parameters = event.detail.parameters;
  Array.from(parameters.keys ? parameters.keys() : Object.keys(parameters)).forEach(function (name) {
    var value = parameters.get ? parameters.get(name) : parameters[name];
    if (value === "") {
      if (parameters.delete) parameters.delete(name);
      else delete parameters[name];
    }
  });
});

/* The browser's time zone: sent with the sign-in and sign-up forms ([data-browser-zone]), and once by
   a browser that was signed in before the account had one (data-zone-url). The server draws every
   time in the account's zone; the next page reads in the browser's. */
document.addEventListener("DOMContentLoaded", function () {
  var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone) return;
  document.querySelectorAll("[data-browser-zone]").forEach(function (input) { input.value = zone; });
  var body = document.body;
  var url = body.dataset.zoneUrl;
  if (!url || !window.fetch || document.querySelector("[data-browser-zone]")) return;
  var token = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": token },
    body: "time_zone=" + encodeURIComponent(zone),
  }).then(function () { delete body.dataset.zoneUrl; });
});

/* Money as the server writes it (amounts.format_money: ₹50, ₹1,00,000, ₹12.50: India's grouping, paise
   only when there are some), and the one live balance: every [data-balance] element (the header badge,
   the wallet page, the session bar) shows the `balance` event the server sends after each change to
   the account's wallet. */
window.astro = window.astro || {};
window.astro.money = function (value) {
  var currency = document.body.dataset.currency || "INR";
  var amount = Number(value);
  var digits = Number.isInteger(amount) ? 0 : 2;
  return new Intl.NumberFormat((document.documentElement.lang || "en") + "-IN", {
    style: "currency", currency: currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(amount);
};

/* The scripts' sentences in the page's language (issue 41): base.html embeds the catalog of every
   t("...") string of static/js in <script type="application/json" id="i18n-catalog"> on a page that
   is not in English; t() says a sentence from it (else as written) and fills %(name)s from `values`. */
window.astro.t = function (message, values) {
  var catalog = window.astro.catalog;
  if (!catalog) {
    var data = document.getElementById("i18n-catalog");
    catalog = window.astro.catalog = data ? JSON.parse(data.textContent) : {};
  }
  return (catalog[message] || message).replace(/%\((\w+)\)[sd]/g, function (_, name) {
    return values && name in values ? values[name] : "";
  }).replace(/%%/g, "%");
};
var t = window.astro.t;
window.astro.followBalance = function (socket) {
  socket.on("balance", function (event) {
    document.querySelectorAll("[data-balance]").forEach(function (element) {
      var value = event[element.dataset.balance || "available"];
      if (value === undefined) return;
      element.textContent = window.astro.money(value);
    });
  });
  // The header's bell: the unread count as the server keeps it (notifications_unread after each change).
  socket.on("notifications_unread", function (event) {
    document.querySelectorAll("[data-unread]").forEach(function (bell) {
      bell.querySelector("[data-unread-count]").textContent = event.unread;
      bell.classList.toggle("has-unread", event.unread > 0);
      bell.setAttribute("aria-label", t("Notifications, %(count)s unread", { count: event.unread }));
    });
  });
};

/* The phone header's menu: one button opens and closes the links (on wide screens they are always shown). */
document.addEventListener("click", function (event) {
  var toggle = event.target.closest("[data-nav-toggle]");
  if (toggle) {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.getElementById(toggle.getAttribute("aria-controls")).classList.toggle("is-open", open);
    return;
  }
  var filters = event.target.closest("[data-filters-toggle]");
  if (filters) {
    var shown = filters.getAttribute("aria-expanded") !== "true";
    filters.setAttribute("aria-expanded", String(shown));
    document.getElementById(filters.getAttribute("aria-controls")).classList.toggle("is-open", shown);
  }
});
document.documentElement.classList.add("js");

/* The spending cap's price quote (consultations/_cap_fields.html), recomputed as the person types:
   the most the consultation can cost and what is held to start it. The server decides. */
document.addEventListener("input", quoteCap);
document.addEventListener("change", quoteCap);
function quoteCap(event) {
  var box = event.target.closest && event.target.closest("[data-cap-quote]");
  if (!box) return;
  var rate = Number(box.dataset.rate);
  var start = Number(box.dataset.startMinutes);
  var kind = box.querySelector("select").value;
  var value = box.querySelector("input").value.trim().replace(/,/g, "");
  var text = box.querySelector("[data-quote-text]");
  var money = window.astro.money;
  var minutes = null;
  if (kind === "minutes" && /^\d+$/.test(value)) minutes = Number(value);
  if (kind === "amount" && /^\d+(\.\d{1,2})?$/.test(value) && rate > 0) minutes = Math.floor(Number(value) / rate);
  var inRoom = "inRoom" in box.dataset; // the hold is behind a session in progress
  if (kind === "none") {
    text.textContent = inRoom
      ? t("%(rate)s per minute, no limit.", { rate: money(rate) })
      : t("%(rate)s per minute; %(held)s held to start, returned when it ends.", { rate: money(rate), held: money(rate * start) });
  } else if (minutes === null) {
    text.textContent = kind === "minutes" ? t("Enter whole minutes.") : t("Enter an amount such as 200.");
  } else if (minutes < 1) {
    text.textContent = t("That does not pay for one minute at %(rate)s.", { rate: money(rate) });
  } else if (inRoom) {
    text.textContent = t("Stops after %(minutes)s min: at most %(most)s.", { minutes: minutes, most: money(rate * minutes) });
  } else {
    text.textContent = t("Stops after %(minutes)s min: at most %(most)s; %(held)s held to start.", {
      minutes: minutes, most: money(rate * minutes), held: money(rate * Math.min(start, minutes)),
    });
  }
}

// The birth chart: "Print" prints the page (print CSS leaves the chart); beside the chat on a wide
// screen the astrologer's chart panel starts open (on a phone it is one tap away).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
document.addEventListener("DOMContentLoaded", function () {
  var panel = document.querySelector("[data-kundli-panel]");
  if (panel && window.matchMedia("(min-width: 1100px)").matches) panel.open = true;
});

// Web Push on this device (templates/notifications/_push_control.html): the service worker registered
// from the site's root, the browser's subscription sent to the server (or withdrawn).
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-push]");
  if (!box) return;
  var state = box.querySelector("[data-push-state]");
  var on = box.querySelector("[data-push-on]");
  var off = box.querySelector("[data-push-off]");
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    state.textContent = t("This browser cannot show notifications when the site is closed.");
    return;
  }
  var token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  function send(method, body) {
    return fetch(box.dataset.pushUrl, {
      method: method, credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": token, Accept: "application/json" },
    }).then(function (response) { if (!response.ok) throw new Error("refused"); });
  }
  function key() {
    var text = box.dataset.pushKey.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(text + "===".slice((text.length + 3) % 4));
    return Uint8Array.from(raw, function (c) { return c.charCodeAt(0); });
  }
  function show(subscribed, words) {
    on.hidden = subscribed;
    off.hidden = !subscribed;
    state.textContent = words;
  }
  var ready = navigator.serviceWorker.register(box.dataset.workerUrl, { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  });
  ready.then(function (registration) { return registration.pushManager.getSubscription(); }).then(function (current) {
    if (Notification.permission === "denied") show(false, t("Notifications are blocked for this site in the browser's settings."));
    else show(!!current, current ? t("On: you are told even when no tab is open.") : t("Off on this device."));
  });
  on.addEventListener("click", function () {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { show(false, t("The browser did not allow notifications.")); return null; }
      return ready.then(function (registration) {
        return registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key() });
      }).then(function (subscription) { return send("POST", subscription.toJSON()); })
        .then(function () { show(true, t("On: you are told even when no tab is open.")); });
    }).catch(function () { show(false, t("Notifications could not be turned on here.")); });
  });
  off.addEventListener("click", function () {
    ready.then(function (registration) { return registration.pushManager.getSubscription(); }).then(function (current) {
      if (!current) return null;
      return send("DELETE", { endpoint: current.endpoint }).then(function () { return current.unsubscribe(); });
    }).then(function () { show(false, t("Off on this device.")); });
  });
});

// Follow from the listing's cards: the cards are the same cached HTML for everyone, so the page says
// whom this user follows ([data-following]) and each card's button is set from it; a tap follows or
// unfollows in place (the same routes as the profile's button).
(function () {
  function marks() { return document.querySelector("[data-following]"); }
  function paint() {
    var box = marks();
    if (!box) return;
    var followed = new Set(box.dataset.following.split(" ").filter(Boolean));
    document.querySelectorAll("[data-follow-card]").forEach(function (button) {
      var on = followed.has(button.dataset.followCard);
      button.hidden = false;
      button.setAttribute("aria-pressed", String(on));
      button.firstChild.textContent = on ? t("Following") : t("Follow");
    });
  }
  document.addEventListener("DOMContentLoaded", paint);
  document.addEventListener("htmx:afterSwap", paint);
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-follow-card]");
    var box = marks();
    if (!button || !box) return;
    var id = button.dataset.followCard;
    var on = button.getAttribute("aria-pressed") === "true";
    var url = box.dataset.followUrl.replace("00000000-0000-0000-0000-000000000000", id).replace(/follow$/, on ? "unfollow" : "follow");
    var token = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
    fetch(url, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": token, "HX-Request": "true" } })
      .then(function (response) {
        if (!response.ok) return;
        var followed = new Set(box.dataset.following.split(" ").filter(Boolean));
        if (on) followed.delete(id); else followed.add(id);
        box.dataset.following = Array.from(followed).join(" ");
        paint();
      });
  });
})();
