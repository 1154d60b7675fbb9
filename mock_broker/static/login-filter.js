// The login page's filter, live as you type (the page's GET form filters on the server without JavaScript).
// Served as a file: the Content-Security-Policy allows no inline script (script-src 'self').
(function () {
  "use strict";
  var input = document.getElementById("filter");
  if (!input) { return; }
  var entries = Array.prototype.slice.call(document.querySelectorAll(".entry"));
  var groups = Array.prototype.slice.call(document.querySelectorAll(".group"));
  var count = document.getElementById("filter-count");
  function apply() {
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    entries.forEach(function (entry) {
      var text = (entry.getAttribute("data-search") || "").toLowerCase();
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      entry.hidden = !match;
      if (match) { shown += 1; }
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector(".entry:not([hidden])");
    });
    if (count) { count.textContent = String(shown); }
  }
  input.addEventListener("input", apply);
  var form = document.getElementById("filter-form");
  if (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  }
}());
