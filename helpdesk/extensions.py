"""Extension singletons, bound to the app in `create_app`."""

from __future__ import annotations

from flask import Flask, current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from helpdesk.db import Base, CommitSession

db = SQLAlchemy(model_class=Base, session_options={"class_": CommitSession})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
socketio = SocketIO()
babel = Babel()


def current_app_object() -> Flask:
    """The app behind `current_app`, to hand to a thread or keep past the context.

    Flask types `current_app` as a Flask rather than the proxy it is, so the
    proxy's own method is unknown to the type checker.
    """
    return current_app._get_current_object()  # type: ignore[attr-defined]  # see above
