"""Small helpers shared by the views of every feature (thin views, one place)."""

from __future__ import annotations

from typing import Any

from flask import flash
from flask_login import current_user

from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db
from helpdesk.users.models import User


def current_actor() -> User:
    """The signed-in person as a real model object, ready to hand to a service."""
    return current_user._get_current_object()


def form_error(form: Any, exc: HelpdeskError) -> None:
    """Undo the failed change and show the service's message on its field (or as a flash)."""
    db.session.rollback()
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "danger")
