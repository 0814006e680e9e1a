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
