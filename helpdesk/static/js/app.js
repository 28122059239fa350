// Small page behaviours shared by every page. No inline handlers (CSP).
(function () {
  "use strict";
  var root = document.documentElement;
  var strings = {};
  try {
    var block = document.getElementById("i18n-strings");
    if (block) { strings = JSON.parse(block.textContent || "{}"); }
  } catch (e) { strings = {}; }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // Translated UI strings rendered by the server (helpdesk/i18n.py js_strings).
  function t(key) { return Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : key; }

  // A short notice in the polite live region (#toast-area): screen readers read it.
  function toast(message, kind) {
    var area = document.getElementById("toast-area");
    if (!area || !window.bootstrap) { return null; }
    var el = document.createElement("div");
    el.className = "toast align-items-center border-0 text-bg-" + (kind || "primary");
    el.setAttribute("role", kind === "danger" ? "alert" : "status");
    var wrap = document.createElement("div");
    wrap.className = "d-flex";
    var body = document.createElement("div");
    body.className = "toast-body";
    body.textContent = message;
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "btn-close btn-close-white me-2 m-auto";
    btn.setAttribute("data-bs-dismiss", "toast");
    btn.setAttribute("aria-label", t("close"));
    wrap.appendChild(body);
    wrap.appendChild(btn);
    el.appendChild(wrap);
    area.appendChild(el);
    el.addEventListener("hidden.bs.toast", function () { el.remove(); });
    new window.bootstrap.Toast(el, { delay: 5000 }).show();
    return el;
  }

  function postJSON(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "X-Requested-With": "XMLHttpRequest" },
      body: JSON.stringify(data || {})
    });
  }

  window.helpdesk = window.helpdesk || {};
  window.helpdesk.csrfToken = csrfToken;
  window.helpdesk.t = t;
  window.helpdesk.toast = toast;
  window.helpdesk.postJSON = postJSON;

  // Theme switch: applied at once, kept in localStorage (used before login and by
  // theme-init.js) and, when signed in, saved in the profile for the next login.
  function currentTheme() { return root.getAttribute("data-bs-theme") === "dark" ? "dark" : "light"; }
  function syncToggles() {
    var dark = currentTheme() === "dark";
    document.querySelectorAll(".theme-toggle").forEach(function (btn) {
      btn.setAttribute("aria-pressed", dark ? "true" : "false");
    });
  }
  syncToggles();
  document.querySelectorAll(".theme-toggle").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var next = currentTheme() === "dark" ? "light" : "dark";
      root.setAttribute("data-bs-theme", next);
      root.removeAttribute("data-server-theme");
      try { localStorage.setItem("helpdesk-theme", next); } catch (e) { /* private mode */ }
      syncToggles();
      var url = document.body.getAttribute("data-theme-url");
      if (url) {
        postJSON(url, { theme: next }).then(function (r) {
          if (!r.ok) { toast(t("error"), "danger"); }
        }).catch(function () { toast(t("error"), "danger"); });
      }
      document.dispatchEvent(new CustomEvent("helpdesk:theme", { detail: next }));
    });
  });

  // Live character counters (macros.html field(maxchars=…)). Array.from counts code
  // points, as the server's len() does; an emoji is one character, not two.
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k]; });
  }
  document.querySelectorAll("[data-count-for]").forEach(function (counter) {
    var input = document.getElementById(counter.getAttribute("data-count-for"));
    var live = document.getElementById(counter.id + "-live");
    if (!input) { return; }
    var max = parseInt(input.getAttribute("data-maxchars"), 10);
    var wasOver = false;
    function update() {
      var n = Array.from(input.value).length;
      var over = n - max;
      counter.textContent = over > 0 ? fill(t("chars_over"), { over: over, max: max })
                                     : fill(t("chars_count"), { n: n, max: max });
      counter.classList.toggle("text-danger", over > 0);
      if ((over > 0) !== wasOver) {
        wasOver = over > 0;
        input.setAttribute("aria-invalid", wasOver ? "true" : "false");
        if (live) { live.textContent = wasOver ? counter.textContent : ""; }
      }
    }
    input.addEventListener("input", update);
    update();
  });

  // Mark fresh content (e.g. a new chat message or timeline entry) for a short
  // highlight; CSS turns the animation off under prefers-reduced-motion.
  window.helpdesk.highlight = function (el) {
    if (!el) { return; }
    el.classList.remove("just-arrived");
    void el.offsetWidth; // restart the animation
    el.classList.add("just-arrived");
  };
})();
