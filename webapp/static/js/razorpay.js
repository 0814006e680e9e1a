/* Razorpay's Standard Checkout for a top-up (services/money/_razorpay.py). The checkout panel carries
   the options in data-razorpay; "Pay" loads Razorpay's checkout.js (only then, from the origin the CSP
   allows while Razorpay is on), opens it, and posts what its handler receives (order id, payment id,
   signature) to /payments/razorpay/callback, whose answer (checked on the server) replaces the panel. */
(function () {
  "use strict";
  var t = window.astro.t;
  var loading = null;

  function loadCheckout(src) {
    if (window.Razorpay) return Promise.resolve();
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = src;
        script.onload = resolve;
        script.onerror = function () { loading = null; reject(); };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function say(panel, text) {
    var status = panel.querySelector("[data-razorpay-status]");
    if (status) status.textContent = text;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-razorpay-open]");
    if (!button) return;
    var panel = button.closest("[data-razorpay]");
    var options = JSON.parse(panel.dataset.razorpay);
    button.disabled = true;
    say(panel, t("Opening the secure payment window…"));
    loadCheckout(panel.dataset.checkoutJs).then(function () {
      options.handler = function (response) {
        say(panel, t("Checking the payment…"));
        response.csrf_token = panel.dataset.csrf;
        window.htmx.ajax("POST", panel.dataset.callback, { target: "#topup-panel", swap: "outerHTML", values: response });
      };
      options.modal = { ondismiss: function () { button.disabled = false; say(panel, ""); } };
      var checkout = new window.Razorpay(options);
      checkout.on("payment.failed", function () {
        button.disabled = false;
        say(panel, t("The payment did not go through. You can try again."));
      });
      checkout.open();
    }, function () {
      button.disabled = false;
      say(panel, t("The payment window could not be loaded. Check your connection and try again."));
    });
  });
})();
