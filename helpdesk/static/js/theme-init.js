// Runs in <head> before first paint: apply the saved or preferred theme so no
// wrong-coloured frame flashes.  Order: the signed-in user's profile choice
// (server-rendered attribute), then this browser's last choice (localStorage),
// then the system preference (prefers-color-scheme).
(function () {
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem("helpdesk-theme"); } catch (e) { /* private mode */ }
  if (saved !== "light" && saved !== "dark") { saved = null; }
  var server = root.getAttribute("data-server-theme");
  var theme = server || saved || (window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light");
  root.setAttribute("data-bs-theme", theme);
  if (server) {
    // Keep the browser in step with the profile, so the login page after sign-out matches.
    try { localStorage.setItem("helpdesk-theme", server); } catch (e) { /* private mode */ }
  }
})();
