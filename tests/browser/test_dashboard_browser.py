"""The dashboard in Chromium: charts drawn in light and dark, a click opens the filtered list."""

from __future__ import annotations

import pytest

from helpdesk.extensions import db
from helpdesk.tickets import services as tickets
from helpdesk.users.services import create_user
from tests.conftest import PASSWORD, browser_login

pytestmark = pytest.mark.browser

CHARTS = ["chart-status", "chart-priority", "chart-category", "chart-trend", "chart-workload"]


def seed(live_server):  # type: ignore[no-untyped-def]
    with live_server.app.app_context():
        create_user(None, username="boss", password=PASSWORD, role="admin")
        alice = create_user(None, username="alice", password=PASSWORD, role="user")
        hardware = tickets.create_category(None, "Hardware")
        red = tickets.create_category(None, "Red")
        for i, (priority, cat) in enumerate(
            [("high", hardware), ("high", red), ("low", hardware), ("urgent", red)]
        ):
            tickets.create_ticket(
                alice, title=f"Ticket {i} ñ", description="x", category_id=cat.id, priority=priority
            )
        db.session.commit()


def drawn_charts(page):  # type: ignore[no-untyped-def]
    return page.evaluate(
        """ids => ids.filter(id => {
            const c = document.getElementById(id);
            return c && window.Chart.getChart(c) && c.width > 0 && c.height > 0;
        })"""
    , CHARTS)  # fmt: skip


def test_dashboard_charts_light_and_dark_then_click_filters_list(live_server, page):
    seed(live_server)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, live_server, "boss")
    page.goto(live_server.url + "/")
    page.wait_for_selector("#dashboard[data-ready]")
    assert drawn_charts(page) == CHARTS
    assert page.locator('[data-card="open"]').inner_text() == "4"
    assert page.get_attribute("html", "data-bs-theme") == "light"
    light_color = page.evaluate(
        "window.Chart.getChart('chart-priority').options.scales.x.ticks.color"
    )
    page.screenshot(path="/tmp/hd-dashboard-light.png", full_page=True)

    page.locator(".theme-toggle").first.click()
    page.wait_for_function(
        "() => document.documentElement.getAttribute('data-bs-theme') === 'dark'"
    )
    page.wait_for_function(
        "c => window.Chart.getChart('chart-priority').options.scales.x.ticks.color !== c",
        arg=light_color,
    )
    assert drawn_charts(page) == CHARTS
    page.screenshot(path="/tmp/hd-dashboard-dark.png", full_page=True)

    # click the "High" bar of the priority chart → the list filtered by priority=high
    # (in view first: the service-level cards push the charts below the fold)
    page.locator("#chart-priority").scroll_into_view_if_needed()
    point = page.evaluate(
        """() => {
            const chart = window.Chart.getChart('chart-priority');
            const bar = chart.getDatasetMeta(0).data[2];
            const box = chart.canvas.getBoundingClientRect();
            return {x: box.left + bar.x, y: box.top + (bar.y + bar.base) / 2};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/tickets?priority=high")
    rows = page.locator("table tbody tr")
    assert rows.count() == 2
    assert errors == []


def test_user_dashboard_has_no_workload_chart(live_server, page):
    seed(live_server)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, live_server, "alice")
    page.goto(live_server.url + "/")
    page.wait_for_selector("#dashboard[data-ready]")
    assert drawn_charts(page) == CHARTS[:-1]
    # click the status doughnut's only segment (open)
    point = page.evaluate(
        """() => {
            const chart = window.Chart.getChart('chart-status');
            const arc = chart.getDatasetMeta(0).data[0];
            const pos = arc.tooltipPosition();
            const box = chart.canvas.getBoundingClientRect();
            return {x: box.left + pos.x, y: box.top + pos.y};
        }"""
    )
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/tickets?status=open")
    assert errors == []


def test_dashboard_updates_live_when_a_ticket_is_filed(live_server, page):
    seed(live_server)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    browser_login(page, live_server, "boss")
    page.goto(live_server.url + "/")
    page.wait_for_selector("#dashboard[data-ready]")
    assert page.locator('[data-card="open"]').inner_text() == "4"
    page.wait_for_function(
        "() => window.helpdesk && window.helpdesk.socket && window.helpdesk.socket.connected"
    )
    with live_server.app.app_context():
        from helpdesk.users.models import User

        alice = db.session.query(User).filter_by(username="alice").one()
        category = tickets.list_categories()[0]
        tickets.create_ticket(alice, title="Nuevo", description="x", category_id=category.id)
        db.session.commit()
    # no page reload: the realtime event makes dashboard.js fetch the figures again
    page.wait_for_function(
        "() => document.querySelector('[data-card=\"open\"]').textContent === '5'", timeout=10000
    )
    assert errors == []
