def test_login_and_create_ticket(client, people, category):
    resp = client.login("alice")
    assert resp.status_code == 302
    resp = client.post(
        "/tickets/new",
        data={
            "title": "VPN down",
            "description": "Cannot **connect**",
            "category_id": category.id,
            "priority": "high",
        },
    )
    assert resp.status_code == 302, resp.data[:500]
    page = client.get(resp.headers["Location"])
    assert b"VPN down" in page.data
    assert b"<strong>connect</strong>" in page.data
