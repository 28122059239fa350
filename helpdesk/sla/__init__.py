"""Service levels: business calendars, policies, the clocks on tickets and their alerts."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from helpdesk.signals import ticket_event
    from helpdesk.sla.clocks import on_ticket_event

    # blinker keeps one connection per receiver, so repeated app creation is harmless.
    ticket_event.connect(on_ticket_event, weak=False)

    _desk_hooks()

    from helpdesk.notifications.models import NotificationKind
    from helpdesk.notifications.services import register_describer
    from helpdesk.sla.alerts import describe

    register_describer((NotificationKind.SLA_WARNING, NotificationKind.SLA_BREACHED), describe)

    from helpdesk.sla.display import ticket_targets

    app.jinja_env.globals["sla_targets"] = ticket_targets

    @app.context_processor
    def _now() -> dict[str, object]:
        from helpdesk.sla.clocks import now_utc

        return {"now_utc": now_utc()}


def _desk_hooks() -> None:
    """The 24×7 default policy on a desk's first start (migration 0011 makes it on an
    upgrade)."""
    from helpdesk.desk import services as desk
    from helpdesk.sla import services as sla

    if sla.create_default_policy not in desk.FIRST_START:
        desk.FIRST_START.append(sla.create_default_policy)
