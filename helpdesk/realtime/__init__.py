"""Socket.IO plumbing shared by chat, notifications and live tickets.

`init_app` is called by `create_app` after `socketio.init_app`; it builds the
per-app state (presence store, local socket registry) and registers the
handlers, signal receivers and template helpers.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from helpdesk.realtime import hooks, state

    state.RealtimeState.install(app)
    # Importing the modules fills the handler registry (once per process).
    from helpdesk.chat import events as _chat_events  # noqa: F401
    from helpdesk.notifications import events as _notification_events  # noqa: F401
    from helpdesk.realtime import events as _realtime_events  # noqa: F401
    from helpdesk.realtime.handlers import bind_all

    bind_all()

    hooks.connect_signals()
    hooks.register_template_helpers(app)
