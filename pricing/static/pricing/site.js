// Progressive enhancement only: every form works without this file (it has an Apply button).
// With it, changing a control submits its form; htmx (hx-get on the form) swaps the results in place.
(function () {
  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (!form || event.target.type === "search" || event.target.tagName === "TEXTAREA") return;
    if (event.target.type === "checkbox" && event.target.getAttribute("form")) return;
    form.requestSubmit();
  });
  document.documentElement.classList.add("js");
})();
