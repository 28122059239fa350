"""In-process signals that decouple tickets from chat, notifications and live updates.

`ticket_event` is sent inside the transaction, right after a TicketEvent row is
flushed; receivers may add rows (notifications) to the same session and must
queue their socket emits with `helpdesk.db.after_commit`.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the Ticket; kwargs: event=TicketEvent, actor=User
ticket_event = _signals.signal("ticket-event")
# sender: the User whose sessions must end (deactivated, role changed, logged out)
user_sessions_revoked = _signals.signal("user-sessions-revoked")
