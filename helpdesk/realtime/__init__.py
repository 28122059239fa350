"""Socket.IO transport shared by chat, notifications and live tickets.

Transport only: connect/auth, rooms, presence, the socket boundary and emits
after commit. `init_app` is called by `create_app` after `socketio.init_app`; it
builds the per-app state (presence store, local socket registry) and binds the
transport's own handlers. Each feature then binds its handlers and hooks from
its own `init_app` (`helpdesk.chat`, `helpdesk.notifications`, `helpdesk.tickets`).
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from helpdesk.realtime import events, state, templating
    from helpdesk.realtime.handlers import bind
    from helpdesk.signals import user_sessions_revoked

    state.RealtimeState.install(app)
    bind(events)
    # blinker keeps one connection per receiver, so repeated app creation is harmless.
    user_sessions_revoked.connect(state.on_sessions_revoked, weak=False)
    templating.register_template_helpers(app)
