"""Sign-in upkeep: login sessions past their absolute lifetime are deleted even for
people who never sign in again (their next sign-in also removes their own)."""

from __future__ import annotations

from flask import current_app

from helpdesk.auth import services
from helpdesk.jobs import crontab, periodic_task


@periodic_task(crontab(minute="*/5"))
def sweep_login_sessions() -> None:
    services.remove_expired_sessions(int(current_app.config["SESSION_ABSOLUTE_HOURS"]))
