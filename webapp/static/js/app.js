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
