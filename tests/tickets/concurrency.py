"""Several threads changing the same tickets at once, as concurrent requests would."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import OperationalError

from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.users.models import User


def hammer(
    app: Any,
    actor_id: int,
    ticket_ids: list[int],
    steps: int,
    change: Callable[[User, Any, int], None],
    threads: int = 6,
) -> list[BaseException]:
    """Thread n applies change(actor, ticket, n + i) for i < steps to ticket_ids[(n + i) % len],
    one commit per change; a deadlock victim retries with the ticket loaded afresh
    (what a user's next request does). Returns the errors the threads met."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, actor_id)
                for i in range(steps):
                    for _attempt in range(20):
                        ticket = services.get_ticket(actor, ticket_ids[(n + i) % len(ticket_ids)])
                        try:
                            change(actor, ticket, n + i)
                            db.session.commit()
                            break
                        except OperationalError as exc:
                            db.session.rollback()
                            if "deadlock" not in str(exc).lower():
                                raise
            except BaseException as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return errors
