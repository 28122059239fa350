// Real time: one Socket.IO connection per tab for chat, presence, notifications
// and live ticket pages. No inline handlers (CSP). Server HTML is only inserted
// where the server escaped it (chat message bodies) or rendered it for this
// viewer (ticket page fragments fetched over HTTP).
(function () {
  "use strict";
  if (typeof io === "undefined") { return; }
  var cfgEl = document.getElementById("realtime-config");
  if (!cfgEl) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var t = cfg.i18n;
  var me = cfg.userId;
  var ended = false;

  function fmt(s, vars) {
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vars[k] !== undefined ? vars[k] : ""; });
  }
  function csrf() { return window.helpdesk && window.helpdesk.csrfToken ? window.helpdesk.csrfToken() : ""; }

  // Polling first, then upgrade: works where WebSocket is blocked (the fallback).
  var socket = io({ withCredentials: true });
  window.helpdesk = window.helpdesk || {};
  window.helpdesk.socket = socket;

  // ------------------------------------------------------------ counters + toasts
  function setCounter(id, n) {
    var el = document.getElementById(id);
    if (!el) { return; }
    el.textContent = String(n);
    el.hidden = !n;
  }
  function toast(text, url) {
    var area = document.getElementById("toast-area");
    if (!area) { return; }
    var box = document.createElement("div");
    box.className = "toast show align-items-center border-0 text-bg-primary";
    box.setAttribute("role", "status");
    var row = document.createElement("div");
    row.className = "d-flex";
    var body = document.createElement(url ? "a" : "div");
    body.className = "toast-body text-white flex-grow-1";
    if (url) { body.href = url; }
    body.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close btn-close-white me-2 m-auto";
    close.setAttribute("aria-label", "×");
    close.addEventListener("click", function () { box.remove(); });
    row.appendChild(body);
    row.appendChild(close);
    box.appendChild(row);
    area.appendChild(box);
    setTimeout(function () { box.remove(); }, 8000);
  }

  socket.on("notification", function (n) {
    setCounter("notifications-unread", n.unread);
    toast(n.text, n.url);
  });
  socket.on("notifications:count", function (d) { setCounter("notifications-unread", d.unread); });

  // ------------------------------------------------------------ session end
  function sessionEnded() {
    ended = true;
    socket.io.opts.reconnection = false;
    socket.disconnect();
    var banner = document.getElementById("session-ended");
    if (banner) { banner.hidden = false; }
  }
  // The socket sees the cookie of its handshake: after "stay signed in" in another
  // request the server may close it as idle although the session lives on. Ask
  // (read-only) and reconnect with the fresh cookie if so.
  socket.on("session:ended", function (d) {
    if (!d || d.reason !== "expired") { sessionEnded(); return; }
    fetch("/session/status", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (st) {
        if (st && st.idle_remaining > 0 && st.absolute_remaining > 0) {
          setTimeout(function () { socket.connect(); }, 500);
        } else { sessionEnded(); }
      })
      .catch(sessionEnded);
  });
  socket.on("connect_error", function (err) {
    if (err && /unauthorized|session|origin/.test(String(err.message))) { sessionEnded(); }
  });

  // ------------------------------------------------------------ presence
  function applyPresence(p) {
    document.querySelectorAll('[data-presence-user="' + p.user_id + '"]').forEach(function (el) {
      el.classList.remove("presence-online", "presence-away", "presence-offline");
      el.classList.add("presence-" + p.status);
      var label = t[p.status] || p.status;
      if (p.status === "offline" && p.last_seen) {
        label = fmt(t.lastSeen, { when: new Date(p.last_seen).toLocaleString() });
      }
      el.title = label;
      var sr = el.querySelector(".presence-label");
      if (sr) { sr.textContent = t[p.status] || p.status; }
    });
  }
  socket.on("presence", applyPresence);
  function reportAway() { socket.emit("presence:away", { away: document.hidden }); }
  document.addEventListener("visibilitychange", reportAway);

  function refreshPresence() {
    var ids = [];
    document.querySelectorAll("[data-presence-user]").forEach(function (el) {
      var id = parseInt(el.getAttribute("data-presence-user"), 10);
      if (ids.indexOf(id) < 0 && ids.length < 200) { ids.push(id); }
    });
    if (!ids.length) { return; }
    socket.emit("presence:query", { user_ids: ids }, function (res) {
      if (!res || !res.ok) { return; }
      Object.keys(res.statuses).forEach(function (id) {
        applyPresence({ user_id: id, status: res.statuses[id] });
      });
    });
  }

  // ------------------------------------------------------------ live page fragments
  // Fetch this page again (as this viewer, so only what they may see) and swap
  // the live parts. X-Session-Passive: background refreshes do not keep a
  // session alive.
  var refreshTimer = null;
  function refreshParts(selectors, highlightNew) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Session-Passive": "1" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (!html) { return; }
          var doc = new DOMParser().parseFromString(html, "text/html");
          selectors.forEach(function (sel) {
            var fresh = doc.querySelector(sel);
            var old = document.querySelector(sel);
            if (!fresh || !old) { return; }
            if (highlightNew && sel === "#timeline") {
              var known = {};
              old.querySelectorAll("[data-event-id]").forEach(function (li) { known[li.getAttribute("data-event-id")] = true; });
              fresh.querySelectorAll("[data-event-id]").forEach(function (li) {
                if (!known[li.getAttribute("data-event-id")]) { li.classList.add("live-new"); }
              });
            }
            old.replaceWith(document.importNode(fresh, true));
          });
          refreshPresence();
        })
        .catch(function () { /* offline: the next change tries again */ });
    }, 300);
  }

  var ticketBox = document.querySelector("[data-ticket-id]");
  var ticketId = ticketBox ? parseInt(ticketBox.getAttribute("data-ticket-id"), 10) : null;
  socket.on("ticket:changed", function (d) {
    if (ticketId && d.ticket_id === ticketId) {
      refreshParts(["#timeline", "#ticket-status", "#ticket-priority", "#ticket-assignee", "#ticket-attachments"], true);
    }
  });
  socket.on("tickets:changed", function (d) {
    // The dashboard's charts and counters reload themselves on this (dashboard.js).
    document.dispatchEvent(new CustomEvent("helpdesk:tickets-changed", { detail: d }));
    var parts = [];
    document.querySelectorAll("[data-live-refresh]").forEach(function (el) {
      parts.push('[data-live-refresh="' + el.getAttribute("data-live-refresh") + '"]');
    });
    if (parts.length) { refreshParts(parts, false); }
  });
  socket.on("ticket:viewers", function (d) {
    var box = document.getElementById("ticket-viewers");
    if (!box || d.ticket_id !== ticketId) { return; }
    var others = d.viewers.filter(function (v) { return v.id !== me; });
    box.querySelector(".viewers-names").textContent = others.map(function (v) { return v.name; }).join(", ");
    box.hidden = others.length === 0;
  });

  // ------------------------------------------------------------ chat
  var chat = document.getElementById("chat");
  var convId = chat ? parseInt(chat.getAttribute("data-conversation-id"), 10) : null;
  var list = document.getElementById("chat-messages");
  var seenUpto = chat ? parseInt(chat.getAttribute("data-seen-upto"), 10) || 0 : 0;

  function scrollToEnd() { if (list) { list.scrollTop = list.scrollHeight; } }
  function messageItem(m) {
    var li = document.createElement("li");
    var mine = m.sender_id === me;
    li.className = "chat-message " + (mine ? "mine" : "theirs");
    li.setAttribute("data-message-id", m.id);
    var bubble = document.createElement("div");
    bubble.className = "chat-bubble text-break";
    bubble.innerHTML = m.html; // escaped by the server (chat.services.render_text)
    var meta = document.createElement("small");
    meta.className = "chat-meta text-body-secondary";
    meta.textContent = new Date(m.created_at + "Z").toLocaleString([], { dateStyle: "short", timeStyle: "short" });
    if (mine) {
      meta.appendChild(document.createTextNode(" · "));
      var st = document.createElement("span");
      st.className = "chat-status";
      st.textContent = m.id <= seenUpto ? t.seen : t.sent;
      meta.appendChild(st);
    }
    li.appendChild(bubble);
    li.appendChild(meta);
    return li;
  }
  function appendMessage(m) {
    if (!list || list.querySelector('[data-message-id="' + m.id + '"]')) { return; }
    var empty = list.querySelector(".chat-empty");
    if (empty) { empty.remove(); }
    var atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.appendChild(messageItem(m));
    if (atEnd || m.sender_id === me) { scrollToEnd(); }
  }
  function markSeen(upto) {
    seenUpto = Math.max(seenUpto, upto);
    if (!list) { return; }
    list.querySelectorAll(".chat-message.mine").forEach(function (li) {
      if (parseInt(li.getAttribute("data-message-id"), 10) <= seenUpto) {
        var st = li.querySelector(".chat-status");
        if (st) { st.textContent = t.seen; }
      }
    });
  }
  function updateListRow(m, unread) {
    var row = document.querySelector('#conversation-list [data-conversation-id="' + m.conversation_id + '"]');
    if (!row) { return; }
    var last = row.querySelector(".conversation-last");
    if (last) {
      var tmp = document.createElement("div");
      tmp.innerHTML = m.html;
      last.textContent = tmp.textContent.slice(0, 80);
    }
    var badge = row.querySelector(".conversation-unread");
    if (badge && unread !== null) { badge.textContent = String(unread); badge.hidden = !unread; }
    row.parentNode.prepend(row);
  }

  socket.on("chat:message", function (m) {
    if (typeof m.unread_total === "number") { setCounter("chat-unread", m.unread_total); }
    if (convId && m.conversation_id === convId) {
      appendMessage(m);
      updateListRow(m, 0);
      if (m.sender_id !== me && !document.hidden) {
        socket.emit("chat:read", { conversation_id: convId, message_id: m.id });
      }
      var typing = document.getElementById("chat-typing");
      if (typing && m.sender_id !== me) { typing.textContent = ""; }
    } else if (m.sender_id !== me) {
      var row = document.querySelector('#conversation-list [data-conversation-id="' + m.conversation_id + '"] .conversation-unread');
      updateListRow(m, row ? (parseInt(row.textContent, 10) || 0) + 1 : null);
    }
  });
  socket.on("chat:read", function (d) {
    if (typeof d.unread_total === "number") { setCounter("chat-unread", d.unread_total); }
    if (d.reader_id !== me && d.conversation_id === convId) { markSeen(d.upto); }
    if (d.reader_id === me) {
      var badge = document.querySelector('#conversation-list [data-conversation-id="' + d.conversation_id + '"] .conversation-unread');
      if (badge) { badge.hidden = true; badge.textContent = "0"; }
    }
  });
  var typingTimer = null;
  socket.on("chat:typing", function (d) {
    var el = document.getElementById("chat-typing");
    if (!el || d.conversation_id !== convId || d.user_id === me) { return; }
    el.textContent = fmt(t.typing, { name: d.name });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { el.textContent = ""; }, 3000);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && convId) {
      var last = list && list.querySelector(".chat-message.theirs:last-of-type");
      socket.emit("chat:open", { conversation_id: convId });
      if (last) { socket.emit("chat:read", { conversation_id: convId, message_id: parseInt(last.getAttribute("data-message-id"), 10) }); }
    }
  });

  if (chat) {
    var form = document.getElementById("composer");
    var body = document.getElementById("chat-body");
    var errorBox = document.getElementById("chat-error");
    var count = document.getElementById("chat-count");
    var max = parseInt(body.getAttribute("data-max"), 10);
    var lastTyping = 0;
    var lastKeepalive = 0;
    scrollToEnd();
    function updateCount() {
      var left = max - body.value.length;
      count.textContent = left < 200 ? fmt(t.remaining, { n: left }) : "";
    }
    body.addEventListener("input", function () {
      updateCount();
      errorBox.textContent = "";
      body.classList.remove("is-invalid");
      var now = Date.now();
      if (now - lastTyping > 2000 && socket.connected) {
        lastTyping = now;
        socket.emit("chat:typing", { conversation_id: convId });
      }
    });
    body.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", function (e) {
      if (!socket.connected) { return; } // no socket: the plain form POST still works
      e.preventDefault();
      var text = body.value;
      if (!text.trim()) { return; }
      socket.emit("chat:send", { conversation_id: convId, body: text }, function (res) {
        if (res && res.ok) {
          body.value = "";
          updateCount();
          appendMessage(res.message);
          updateListRow(res.message, 0);
          // Chatting is activity: keep the HTTP session alive too (at most once a minute).
          if (Date.now() - lastKeepalive > 60000) {
            lastKeepalive = Date.now();
            fetch("/session/keepalive", { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrf() } }).catch(function () {});
          }
        } else {
          errorBox.textContent = (res && res.error) || t.sendFailed;
          body.classList.add("is-invalid");
        }
      });
    });
    // Older messages while scrolling up (keyset pages by id).
    var loading = false;
    list.addEventListener("scroll", function () {
      if (loading || list.scrollTop > 40 || chat.getAttribute("data-has-more") !== "true") { return; }
      var first = list.querySelector("[data-message-id]");
      if (!first) { return; }
      loading = true;
      var url = chat.getAttribute("data-history-url") + "?before=" + first.getAttribute("data-message-id");
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json", "X-Session-Passive": "1" } })
        .then(function (r) { return r.json(); })
        .then(function (d) {
          var height = list.scrollHeight;
          d.messages.slice().reverse().forEach(function (m) { list.insertBefore(messageItem(m), list.firstChild); });
          list.scrollTop += list.scrollHeight - height;
          chat.setAttribute("data-has-more", d.has_more ? "true" : "false");
        })
        .finally(function () { loading = false; });
    });
  }

  // ------------------------------------------------------------ (re)connect
  socket.on("connect", function () {
    if (ended) { return; }
    if (document.hidden) { reportAway(); }
    if (ticketId) { socket.emit("ticket:watch", { ticket_id: ticketId }); }
    if (convId) {
      socket.emit("chat:open", { conversation_id: convId }, function (res) {
        if (res && res.ok) { markSeen(res.seen_upto); }
      });
    }
    refreshPresence();
    socket.emit("notifications:count", {}, function (res) {
      if (res && res.ok) { setCounter("notifications-unread", res.unread); }
    });
  });
})();
