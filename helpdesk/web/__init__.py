"""What the views of every feature share: the signed-in actor and the HTTP boundary.

`boundary.py` holds the one transaction per request (commit once, roll back on
error) and the helpers that show a service's error to the person (`form_error`,
`flash_error`).
"""

from __future__ import annotations

from flask_login import current_user

from helpdesk.users.models import User
from helpdesk.web.boundary import abandon, flash_error, form_error, keep_on_error

__all__ = ["abandon", "current_actor", "flash_error", "form_error", "keep_on_error"]


def current_actor() -> User:
    """The signed-in person as a real model object, ready to hand to a service."""
    return current_user._get_current_object()
