/* Admin money actions ask first (blueprints/admin/asking.py). A form marked data-ask-first is sent with
   X-Ask-First: the server answers the question (who, how much), shown here in the page's native
   <dialog id="ask-first">; its Confirm re-posts the form with confirmed=yes, Cancel closes it. Anything
   else (a form error, no network) falls back to posting the form, whose answer asks as a page. */
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var dialog = document.getElementById("ask-first");
    if (!form.matches("form[data-ask-first]") || !dialog || !dialog.showModal) return;
    event.preventDefault();
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { "X-Ask-First": "1" }, credentials: "same-origin", redirect: "manual" })
      .then(function (response) {
        if (response.status !== 200) throw new Error("not a question");
        return response.text();
      })
      .then(function (html) {
        dialog.innerHTML = html;
        dialog.showModal();
        var cancel = dialog.querySelector("[data-ask-first-cancel]");
        if (cancel) cancel.focus();
      })
      .catch(function () { form.submit(); });
  });
  document.addEventListener("click", function (event) {
    var cancel = event.target.closest("#ask-first [data-ask-first-cancel]");
    if (!cancel) return;
    event.preventDefault();
    document.getElementById("ask-first").close();
  });
})();
