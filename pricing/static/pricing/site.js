// Progressive enhancement only: every page works without this file.
// - Changing a control of a form marked data-autosubmit submits it (htmx swaps the results in place).
// - The compare basket (the `compare=` ids in the URL) is kept in localStorage too, so a page reached
//   without it (a bookmark, the address bar) gets it back; emptying it (`compare=` with no ids) empties it.
// - "Copy" buttons copy the text of the element their data-copy names (the curl of the API call).
(function () {
  var KEY = "token-prices:compare";

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form[data-autosubmit]");
    if (!form || event.target.type === "search" || event.target.tagName === "TEXTAREA") return;
    if (event.target.type === "checkbox" && event.target.getAttribute("form")) return;
    form.requestSubmit();
  });
  document.documentElement.classList.add("js");

  function stored() {
    try { return window.localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function store(value) {
    try { window.localStorage.setItem(KEY, value); } catch (e) { /* private mode: the URL still carries it */ }
  }
  function clean(value) {
    return (value || "").split(",").filter(function (id) { return /^[0-9]+$/.test(id); }).slice(0, 6).join(",");
  }

  // Pages that show the basket carry data-basket; the URL is the truth when it names a basket.
  function syncBasket() {
    if (!document.querySelector("[data-basket]")) return;
    var params = new URLSearchParams(window.location.search);
    if (params.has("compare")) {
      store(clean(params.get("compare")));
      return;
    }
    var saved = clean(stored());
    if (saved) {
      params.set("compare", saved);
      window.location.replace(window.location.pathname + "?" + params.toString().replace(/%2C/g, ",") + window.location.hash);
    }
  }
  syncBasket();
  document.addEventListener("htmx:pushedIntoHistory", syncBasket);
  document.addEventListener("htmx:replacedInHistory", syncBasket);

  function revealCopyButtons(root) {
    if (!navigator.clipboard) return;
    (root || document).querySelectorAll("button.copy[data-copy]").forEach(function (button) { button.hidden = false; });
  }
  revealCopyButtons();
  document.addEventListener("htmx:afterSettle", function (event) { revealCopyButtons(event.target); });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.copy[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
      window.setTimeout(function () { button.textContent = "Copy"; }, 2000);
    });
  });
})();
