// gridrun report: filter by slug, show only what did not pass, expand or collapse every detail,
// open the details a link points into. The page is whole without it; whatever happens here, it
// ends by marking the page ready (the browser test reads these).
(function () {
  "use strict";
  var body = document.body;
  try {
    var search = document.getElementById("search");
    var onlyBad = document.getElementById("only-bad");
    var items = document.querySelectorAll("[data-slug]");
    var apply = function () {
      var q = search.value.trim().toLowerCase();
      body.classList.toggle("only-bad", onlyBad.checked);
      for (var i = 0; i < items.length; i++) {
        var slug = (items[i].getAttribute("data-slug") || "").toLowerCase();
        items[i].classList.toggle("miss", q !== "" && slug.indexOf(q) === -1);
      }
    };
    var setAll = function (open) {
      var all = document.querySelectorAll("details");
      for (var i = 0; i < all.length; i++) {
        all[i].open = open;
      }
    };
    var reveal = function () {
      var id = "";
      try {
        id = decodeURIComponent(location.hash.slice(1));
      } catch (e) {
        id = "";
      }
      for (var el = id ? document.getElementById(id) : null; el; el = el.parentElement) {
        if (el.tagName === "DETAILS") {
          el.open = true;
        }
      }
    };
    search.addEventListener("input", apply);
    onlyBad.addEventListener("change", apply);
    document.getElementById("expand").addEventListener("click", function () { setAll(true); });
    document.getElementById("collapse").addEventListener("click", function () { setAll(false); });
    window.addEventListener("hashchange", reveal);
    document.getElementById("tools").hidden = false;
    reveal();
  } catch (e) {
    // Only the tools are lost; the report itself is plain HTML.
  } finally {
    body.dataset.cells = String(document.querySelectorAll(".cell").length);
    body.dataset.ready = "1";
  }
})();
