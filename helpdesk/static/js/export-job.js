// Excel export job page: asks the job's JSON (data-status-url) every second and draws
// the progress bar; when the file is ready it shows the download link and starts the
// download once. No inline script (strict CSP): everything comes from the page's ids.
// Without script the page reloads itself (<noscript> meta refresh).
(function () {
  "use strict";
  var root = document.getElementById("export-job");
  if (!root) { return; }
  var progress = document.getElementById("job-progress");
  var bar = document.getElementById("job-bar");
  var percent = document.getElementById("job-percent");
  var text = document.getElementById("job-text");
  var errorBox = document.getElementById("job-error");
  var link = document.getElementById("job-download");
  var t = (window.helpdesk && window.helpdesk.t) || function (key) { return key; };
  var ACTIVE = { queued: true, running: true };
  var INTERVAL = 1000;
  var failures = 0;

  function setBar(value) {
    bar.className = bar.className.replace(/\bw-pct-\d+\b/, "").trim();
    bar.style.width = value + "%";  // CSSOM, not a style attribute: allowed by the CSP
  }

  function draw(state) {
    progress.setAttribute("aria-valuenow", String(state.percent));
    progress.setAttribute("aria-valuetext", state.percent_text);
    setBar(state.percent);
    percent.textContent = state.percent_text;
    text.textContent = state.message;
    if (ACTIVE[state.status]) { return; }
    bar.classList.remove("progress-bar-striped", "progress-bar-animated");
    if (state.status === "done") {
      bar.classList.add("bg-success");
      link.href = state.download_url;
      link.classList.remove("d-none");
      // The person waited on this page for the file: start the download once. The
      // link stays for another copy; Content-Disposition keeps this page open.
      window.location.assign(state.download_url);
    } else {
      bar.classList.add("bg-danger");
      errorBox.textContent = state.error || t("error");
      errorBox.classList.remove("d-none");
    }
  }

  function stop(message) {
    bar.classList.remove("progress-bar-animated");
    errorBox.textContent = message;
    errorBox.classList.remove("d-none");
  }

  function poll() {
    // X-Session-Passive: watching a job must not keep an idle session alive forever.
    fetch(root.dataset.statusUrl, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { "Accept": "application/json", "X-Session-Passive": "1" }
    }).then(function (response) {
      if (response.status === 401 || response.status === 404) {
        // Signed out (session.js takes the page to sign-in) or the job expired.
        return response.json().then(function (body) { stop(body.message || t("error")); });
      }
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json().then(function (state) {
        failures = 0;
        errorBox.classList.add("d-none");
        draw(state);
        if (ACTIVE[state.status]) { window.setTimeout(poll, INTERVAL); }
      });
    }).catch(function () {
      // Server restarting or network gone: keep trying, less often, and say so.
      failures += 1;
      if (failures >= 3) {
        errorBox.textContent = t("offline");
        errorBox.classList.remove("d-none");
      }
      window.setTimeout(poll, Math.min(INTERVAL * Math.pow(2, failures), 15000));
    });
  }

  if (ACTIVE[root.dataset.status]) {
    setBar(parseInt(progress.getAttribute("aria-valuenow"), 10) || 0);
    window.setTimeout(poll, INTERVAL);
  }
})();
