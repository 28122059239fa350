// Session clock: a visible countdown to the idle timeout, a warning 60 s before it with a
// "stay signed in" button (CSRF-protected keep-alive), and at expiry a redirect to the
// sign-in page. Every open tab shares one deadline through BroadcastChannel (or
// localStorage events where BroadcastChannel is missing). The server enforces the
// timeout on its own; this only tells the person in time. No inline handlers (CSP).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="session-clock"]');
  if (!meta) { return; }

  var WARN_MS = 60 * 1000;
  var KEY = "helpdesk-session";
  var data = meta.dataset;
  var now = Date.now();
  var state = {
    idleDeadline: now + Number(data.idleRemaining) * 1000,
    absoluteDeadline: now + Number(data.absoluteRemaining) * 1000,
    ended: false,
    checking: false
  };
  var warning = document.getElementById("session-warning");
  var stayButton = document.getElementById("session-keepalive");
  var displays = document.querySelectorAll("[data-session-remaining]");
  var channel = null;
  try { channel = new BroadcastChannel(KEY); } catch (e) { channel = null; }

  function deadline() { return Math.min(state.idleDeadline, state.absoluteDeadline); }

  function format(ms) {
    var s = Math.max(0, Math.ceil(ms / 1000));
    var m = Math.floor(s / 60);
    var rest = s % 60;
    return m + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function publish(message) {
    message.sentAt = Date.now();
    if (channel) { channel.postMessage(message); return; }
    try { localStorage.setItem(KEY, JSON.stringify(message)); } catch (e) { /* private mode */ }
  }

  function receive(message) {
    if (!message || state.ended) { return; }
    if (message.type === "deadline") {
      // Deadlines are wall-clock times on this machine, so every tab agrees.
      if (message.idleDeadline > state.idleDeadline) { state.idleDeadline = message.idleDeadline; }
      if (message.absoluteDeadline) { state.absoluteDeadline = message.absoluteDeadline; }
      tick();
    } else if (message.type === "ended") {
      goToLogin();
    }
  }

  if (channel) {
    channel.addEventListener("message", function (event) { receive(event.data); });
  } else {
    window.addEventListener("storage", function (event) {
      if (event.key !== KEY || !event.newValue) { return; }
      try { receive(JSON.parse(event.newValue)); } catch (e) { /* ignore */ }
    });
  }

  function applyServer(answer) {
    var t = Date.now();
    state.idleDeadline = t + answer.idle_remaining * 1000;
    state.absoluteDeadline = t + answer.absolute_remaining * 1000;
    publish({ type: "deadline", idleDeadline: state.idleDeadline,
              absoluteDeadline: state.absoluteDeadline });
    tick();
  }

  function request(url, method) {
    var headers = { "X-Requested-With": "XMLHttpRequest", "Accept": "application/json" };
    if (method === "POST") {
      headers["X-CSRFToken"] = window.helpdesk && window.helpdesk.csrfToken
        ? window.helpdesk.csrfToken() : "";
    } else {
      headers["X-Session-Passive"] = "1";  // asking must not extend the session
    }
    return fetch(url, { method: method, headers: headers, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      });
  }

  function goToLogin() {
    if (state.ended) { return; }
    state.ended = true;
    publish({ type: "ended" });
    var target = data.loginUrl + "?expired=1&next=" +
      encodeURIComponent(location.pathname + location.search);
    location.assign(target);
  }

  function expire() {
    // Another tab's fetch may have kept the server session alive: ask before leaving.
    if (state.checking) { return; }
    state.checking = true;
    request(data.statusUrl, "GET").then(function (answer) {
      state.checking = false;
      if (answer.idle_remaining > 0 && answer.absolute_remaining > 0) {
        applyServer(answer);
      } else {
        goToLogin();
      }
    }).catch(function () { state.checking = false; goToLogin(); });
  }

  function tick() {
    if (state.ended) { return; }
    var left = deadline() - Date.now();
    displays.forEach(function (el) { el.textContent = format(left); });
    if (warning) {
      var show = left <= WARN_MS;
      warning.classList.toggle("d-none", !show);
      if (stayButton) {
        // Past the absolute lifetime no keep-alive helps.
        stayButton.classList.toggle("d-none", state.absoluteDeadline <= state.idleDeadline);
      }
    }
    if (left <= 0) { expire(); }
  }

  if (stayButton) {
    stayButton.addEventListener("click", function () {
      stayButton.disabled = true;
      request(data.keepaliveUrl, "POST").then(function (answer) {
        stayButton.disabled = false;
        applyServer(answer);
      }).catch(function () { stayButton.disabled = false; expire(); });
    });
  }

  // Scripts that talk to the server with fetch can announce it (the server refreshed
  // its idle clock): document.dispatchEvent(new CustomEvent("helpdesk:activity")).
  document.addEventListener("helpdesk:activity", function () {
    state.idleDeadline = Math.min(Date.now() + Number(data.idleTimeout) * 1000,
                                  state.absoluteDeadline);
    publish({ type: "deadline", idleDeadline: state.idleDeadline,
              absoluteDeadline: state.absoluteDeadline });
    tick();
  });

  // Loading this page was activity: tell the other tabs.
  publish({ type: "deadline", idleDeadline: state.idleDeadline,
            absoluteDeadline: state.absoluteDeadline });
  tick();
  window.setInterval(tick, 1000);
})();
