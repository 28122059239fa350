"""Native full-text search behind tickets.services.filtered_tickets, on all three databases."""

from __future__ import annotations

from helpdesk.extensions import db
from helpdesk.tickets import services


def _titles(actor, q: str) -> set[str]:
    page = services.list_tickets(actor, services.parse_filters({"q": q}))
    return {t.title for t in page.items}


def test_words_prefixes_accents_and_number(people, make_ticket):
    alice, bob = people["user"], people["user2"]
    make_ticket(alice, title="La impresora de la planta 3 no imprime")
    make_ticket(alice, title="Teléfono sin tono", description="Extensión 204 muda")
    make_ticket(alice, title="VPN drops every hour", description="The printer works though")
    hidden = make_ticket(bob, title="Impresora de Bob")
    admin = people["admin"]

    assert _titles(admin, "impresora") == {
        "La impresora de la planta 3 no imprime",
        "Impresora de Bob",
    }
    assert _titles(admin, "impres* planta") == {"La impresora de la planta 3 no imprime"}
    assert _titles(admin, "impres planta") == set()  # whole words unless `*` asks for a prefix
    assert _titles(admin, "printer") == {"VPN drops every hour"}  # the description counts
    assert _titles(admin, "extension muda") == {"Teléfono sin tono"}
    assert _titles(alice, "extension muda") == {"Teléfono sin tono"}
    # Only what the actor may see: alice does not find bob's ticket.
    assert _titles(alice, "impresora") == {"La impresora de la planta 3 no imprime"}
    # A ticket number is an exact match on the number.
    assert _titles(admin, hidden.number.lower()) == {"Impresora de Bob"}
    assert _titles(alice, hidden.number) == set()
    # Search syntax from the user is data, never operators.
    assert _titles(admin, 'impresora" -"* ^( NEAR') == set()
    assert _titles(admin, 'impresora" -"* ^(') == {
        "La impresora de la planta 3 no imprime",
        "Impresora de Bob",
    }
    assert _titles(admin, "¿¿??") == set()
    assert _titles(admin, "nothinglikethis") == set()


def test_index_follows_edits_and_deletes(app, people, make_ticket):
    alice = people["user"]
    ticket = make_ticket(alice, title="Monitor parpadea")
    admin = people["admin"]
    assert _titles(admin, "parpadea") == {"Monitor parpadea"}

    ticket.title = "Pantalla negra"
    db.session.commit()
    assert _titles(admin, "parpadea") == set()
    assert _titles(admin, "pantalla") == {"Pantalla negra"}

    db.session.delete(ticket)
    db.session.commit()
    assert _titles(admin, "pantalla") == set()


def test_search_through_the_list_page(client, people, make_ticket):
    make_ticket(people["user"], title="Outlook se cierra al abrir adjunto")
    make_ticket(people["user"], title="Wi-Fi de la sala 12")
    client.login("boss")
    body = client.get("/tickets?q=outlook").get_data(as_text=True)
    assert "Outlook se cierra" in body
    assert "Wi-Fi de la sala" not in body


def test_pages_of_search_results(people, make_ticket):
    """Keyset pages over a search walk every match once, newest first, for each role."""
    alice = people["user"]
    ids = [make_ticket(alice, title=f"Correo caído {i}").id for i in range(7)]
    make_ticket(alice, title="Something else")
    for actor in (people["admin"], people["tech"], alice):
        seen, cursor = [], None
        filters = services.parse_filters({"q": "correo"})
        while True:
            page = services.list_tickets(actor, filters, cursor=cursor, limit=3)
            seen += [t.id for t in page.items]
            cursor = page.next_cursor
            if not cursor:
                break
        assert seen == sorted(ids, reverse=True), actor.username
        oldest = services.list_tickets(
            actor, services.parse_filters({"q": "correo", "sort": "oldest"})
        )
        assert [t.id for t in oldest.items] == ids
        assert services.count_tickets(actor, filters) == 7
