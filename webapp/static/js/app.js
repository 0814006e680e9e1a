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

/* The browser's time zone, sent once: the server shows every time in the account's zone and asks
   (data-zone-url) only while none is stored. A page drawn in another zone is drawn again. */
document.addEventListener("DOMContentLoaded", function () {
  var body = document.body;
  var url = body.dataset.zoneUrl;
  var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!url || !zone || !window.fetch) return;
  var token = JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": token },
    body: "time_zone=" + encodeURIComponent(zone),
  }).then(function (response) {
    delete body.dataset.zoneUrl;
    if (response.status === 204 && zone !== body.dataset.zone && !document.querySelector("[data-live-page=room]")) {
      window.location.reload();
    }
  });
});

/* Money as the server writes it (amounts.format_money: ₹1,234.50, India's grouping), and the one
   live balance: every [data-balance] element (the header badge, the wallet page, the session bar)
   shows the `balance` event the server sends after each change to the account's wallet. */
window.astro = window.astro || {};
window.astro.money = function (value) {
  var currency = document.body.dataset.currency || "INR";
  return new Intl.NumberFormat("en-IN", { style: "currency", currency: currency }).format(Number(value));
};
window.astro.followBalance = function (socket) {
  socket.on("balance", function (event) {
    document.querySelectorAll("[data-balance]").forEach(function (element) {
      var value = event[element.dataset.balance || "available"];
      if (value === undefined) return;
      var hidden = element.querySelector(".visually-hidden");
      element.textContent = window.astro.money(value);
      if (hidden) element.prepend(hidden);
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
