"""Predicates the templates call say what the services then do (one rule, two callers)."""

from __future__ import annotations

import pytest

from helpdesk.chat.permissions import ticket_chat_peer
from helpdesk.errors import HelpdeskError
from helpdesk.extensions import db
from helpdesk.tickets import permissions as perm
from helpdesk.tickets import services


@pytest.mark.parametrize("closed", [False, True])
def test_the_composer_shows_exactly_when_the_service_takes_a_comment(people, make_ticket, closed):
    ticket = make_ticket(people["user"])
    services.take_ticket(people["tech"], ticket)
    if closed:
        services.change_status(people["admin"], ticket, "closed")
    db.session.commit()
    for name, actor in people.items():
        shown = perm.can_write_comment(actor, ticket)
        try:
            with db.session.begin_nested():
                services.add_comment(actor, ticket, "Hello", internal=perm.can_see_internal(actor))
            taken = True
        except HelpdeskError:
            taken = False
        assert shown == taken, (name, closed)
    db.session.rollback()


def test_ticket_chat_peer(people, make_ticket):
    admin, tech, tech2, alice = (people[k] for k in ("admin", "tech", "tech2", "user"))
    ticket = make_ticket(alice)
    assert ticket_chat_peer(alice, ticket) is None  # nobody works on it yet
    services.take_ticket(tech, ticket)
    db.session.commit()
    assert ticket_chat_peer(alice, ticket) == tech
    assert ticket_chat_peer(tech, ticket) == alice
    assert ticket_chat_peer(admin, ticket) == alice
    assert ticket_chat_peer(people["user2"], ticket) is None
    own = make_ticket(tech2)
    assert ticket_chat_peer(tech2, own) is None  # the requester, nobody assigned
    alice.active = False
    assert ticket_chat_peer(tech, ticket) is None  # deactivated people are not offered
