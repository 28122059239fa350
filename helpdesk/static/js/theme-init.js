// Runs in <head> before first paint: apply the saved or preferred theme so no
// wrong-coloured frame flashes.  The server-rendered attribute wins when the
// user has a saved profile preference.
(function () {
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem("helpdesk-theme"); } catch (e) { /* private mode */ }
  var server = root.getAttribute("data-server-theme");
  var theme = server || saved || (window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  root.setAttribute("data-bs-theme", theme);
})();
