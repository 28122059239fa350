"""Which tickets a person may see, said once.

`Audience.of(user)` turns the role rule of the product contract into data:

- an administrator sees everything;
- a technician sees the queues of the assignees in `queues` (their own and the
  unassigned one) and the tickets they requested;
- a user sees the tickets they requested;
- a deactivated person sees nothing.

Every reader takes its filter from this one value: `admits` (one ticket, Python),
`clause` (lists, search, exports: SQL over tickets), and the maintained figures
(`tickets/counters.py`, `tickets/daily.py`), which read the counter rows of
`counter_keys` and, from the tickets table, `outside_queues` — the requested
tickets that no queue row of theirs already counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket
from helpdesk.users.models import Role, User

# Keys of the maintained counter rows (`ticket_counts`, `ticket_days`): the
# assignee key of an unassigned ticket, and the key of the rows that roll up
# every assignee (and, in ticket_counts, every category).
UNASSIGNED_KEY = 0
ROLLUP_KEY = -1


@dataclass(frozen=True)
class Audience:
    everything: bool = False
    # Assignees whose queue is visible; None is the unassigned queue.
    queues: tuple[int | None, ...] = ()
    # Tickets this person requested are visible too.
    requester_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Audience:
        if not user.active:
            return cls()
        if user.role == Role.ADMIN:
            return cls(everything=True)
        if user.role == Role.TECHNICIAN:
            return cls(queues=(user.id, None), requester_id=user.id)
        return cls(requester_id=user.id)

    @property
    def nobody(self) -> bool:
        """Sees no ticket at all."""
        return not self.everything and not self.queues and self.requester_id is None

    @property
    def only_requested(self) -> bool:
        """Sees just the tickets they requested: few rows, whatever the table size."""
        return not self.everything and not self.queues and self.requester_id is not None

    def admits(self, ticket: Ticket) -> bool:
        """The rule for one ticket (the Python twin of `clause`)."""
        return (
            self.everything
            or ticket.assignee_id in self.queues
            or (self.requester_id is not None and ticket.requester_id == self.requester_id)
        )

    def clause(self) -> ColumnElement[bool]:
        """The rule as SQL over `tickets`."""
        if self.everything:
            return true()
        # `+ 0` (same meaning) keeps SQLite and MySQL from answering the OR with
        # three index ranges merged and sorted (seconds at a million tickets: the
        # unassigned queue is large); they walk the list's own index instead and
        # stop after one page.  PostgreSQL plans the plain OR well.
        assignee: ColumnElement[Any] | InstrumentedAttribute[int | None] = Ticket.assignee_id
        if self.queues and db.engine.dialect.name != "postgresql":
            assignee = Ticket.assignee_id + 0
        parts: list[ColumnElement[bool]] = [
            assignee.is_(None) if a is None else assignee == a for a in self.queues
        ]
        if self.requester_id is not None:
            parts.append(Ticket.requester_id == self.requester_id)
        if not parts:
            return false()
        return parts[0] if len(parts) == 1 else or_(*parts)

    # ------------------------------------------------------- maintained figures

    @property
    def counter_keys(self) -> list[int]:
        """assignee_key values of the counter rows that hold the visible queues."""
        return [UNASSIGNED_KEY if a is None else a for a in self.queues]

    def outside_queues(self) -> ColumnElement[bool] | None:
        """Visible tickets no queue row counts (requested, in someone else's queue);
        None when there are none. Read from the tickets table: a requester range."""
        if self.everything or self.requester_id is None:
            return None
        conditions: list[ColumnElement[bool]] = [Ticket.requester_id == self.requester_id]
        for a in self.queues:
            conditions.append(
                Ticket.assignee_id.is_not(None) if a is None else Ticket.assignee_id != a
            )
        return and_(*conditions)
