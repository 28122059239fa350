"""Notifications are private to the person they are for."""

from __future__ import annotations

from helpdesk.notifications.models import Notification
from helpdesk.users.models import User


def can_read_notification(user: User, notification: Notification) -> bool:
    return user.active and notification.user_id == user.id
