// Small page behaviours shared by every page. No inline handlers (CSP).
(function () {
  "use strict";
  var root = document.documentElement;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  window.helpdesk = window.helpdesk || {};
  window.helpdesk.csrfToken = csrfToken;

  document.querySelectorAll("#theme-toggle").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
      root.setAttribute("data-bs-theme", next);
      try { localStorage.setItem("helpdesk-theme", next); } catch (e) { /* ignore */ }
      document.dispatchEvent(new CustomEvent("helpdesk:theme", { detail: next }));
    });
  });
})();
