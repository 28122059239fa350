"""Service levels at 10k and 1M tickets: the list sorted by next due and filtered
"breached", the dashboard's breached / at-risk counts, and one sweep with 1 % of the
tickets at risk.

    .venv/bin/python bench/sla_bench.py --db sqlite --sizes 10000,1000000
    .venv/bin/python bench/sla_bench.py --db postgresql --sizes 10000

Uses the demo databases of bench/latency.py (seeded once, reused).  Demo tickets
are bulk-loaded without the clocks, so open ones get the default policy's dues
here as migration 0011 gives them to an existing desk; then 1 % of the open
tickets get a warning due now.  Times are in-process (the service functions the
pages and the worker call), median of --repeat runs; the sweep runs in a
transaction that is rolled back, so every run sends the same alerts.  Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import _run_env, ensure_database, log  # noqa: E402

AT_RISK_SHARE = 0.01


def _timed(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def prepare(size: int) -> dict[str, int]:
    """Dues for open tickets that have none; 1 % of them with a warning due now."""
    from sqlalchemy import func, select, text, update

    from helpdesk.db import utcnow
    from helpdesk.extensions import db
    from helpdesk.sla import services as sla
    from helpdesk.tickets.models import Ticket

    policy = sla.ensure_defaults()
    db.session.commit()
    dialect = db.engine.dialect.name
    missing = db.session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.sla_policy_id.is_(None), Ticket.status.in_(sla.OPEN_STATUSES))
    )
    if missing:
        log(f"giving {missing} open tickets their default dues…")
        for priority, days in sla.DEFAULT_DAYS.items():
            rank = list(type(priority)).index(priority) + 1
            minutes = days * 1440
            if dialect == "sqlite":
                due = f"datetime(created_at, '+{minutes} minutes')"
                warn = f"datetime(created_at, '+{minutes * 80 // 100} minutes')"
            elif dialect in ("mysql", "mariadb"):
                due = f"DATE_ADD(created_at, INTERVAL {minutes} MINUTE)"
                warn = f"DATE_ADD(created_at, INTERVAL {minutes * 80 // 100} MINUTE)"
            else:
                due = f"(created_at + INTERVAL '{minutes} minutes')"
                warn = f"(created_at + INTERVAL '{minutes * 80 // 100} minutes')"
            db.session.execute(
                text(
                    f"UPDATE tickets SET sla_policy_id = :p, sla_started_at = created_at, "
                    f"resolution_due = {due}, sla_next_due = {due}, sla_next_warn = {warn}, "
                    f"sla_resolution_alerted = 2, sla_next_alert = NULL "
                    f"WHERE priority = :rank AND status IN ('open', 'in_progress', 'waiting') "
                    f"AND sla_policy_id IS NULL"
                ),
                {"p": policy.id, "rank": rank},
            )
        db.session.commit()
    now = utcnow()
    # Exactly 1 % at risk: every hundredth open ticket, its warning due a minute ago.
    db.session.execute(
        update(Ticket).where(Ticket.sla_next_alert.is_not(None)).values(sla_next_alert=None)
    )
    ids = list(
        db.session.scalars(
            select(Ticket.id).where(Ticket.status.in_(sla.OPEN_STATUSES)).order_by(Ticket.id)
        )
    )
    chosen = ids[:: int(1 / AT_RISK_SHARE)][: int(size * AT_RISK_SHARE)]
    for start in range(0, len(chosen), 5000):
        batch = chosen[start : start + 5000]
        db.session.execute(
            update(Ticket)
            .where(Ticket.id.in_(batch))
            .values(
                sla_next_alert=now.replace(second=0),
                sla_resolution_alerted=0,
                resolution_due=now + timedelta(hours=1),
                sla_next_due=now + timedelta(hours=1),
                sla_next_warn=now.replace(second=0),
            )
        )
    db.session.commit()
    if dialect == "postgresql":
        db.session.execute(text("ANALYZE tickets"))
    elif dialect in ("mysql", "mariadb"):
        db.session.execute(text("ANALYZE TABLE tickets"))
    else:
        db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {"open": len(ids), "at_risk": len(chosen)}


def measure(kind: str, size: int, directory: str, repeat: int) -> dict[str, Any]:
    import os

    url, _seeded = ensure_database(kind, size, directory)
    os.environ.update(_run_env(url))
    from helpdesk import create_app
    from helpdesk.extensions import db
    from helpdesk.reports.dashboard import dashboard_data
    from helpdesk.sla import alerts, figures
    from helpdesk.tickets.queries import list_tickets, parse_filters
    from helpdesk.users.models import Role, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "JOBS_BACKEND": "immediate"})
    out: dict[str, Any] = {"size": size}
    with app.app_context():
        out.update(prepare(size))
        admin = db.session.scalar(db.select(User).where(User.role == Role.ADMIN).order_by(User.id))
        tech = db.session.scalar(
            db.select(User).where(User.role == Role.TECHNICIAN).order_by(User.id)
        )
        for who, actor in (("admin", admin), ("technician", tech)):
            out[f"list_due_{who}"] = _timed(
                lambda a=actor: list_tickets(a, parse_filters({"sort": "due"})), repeat
            )
            out[f"list_breached_{who}"] = _timed(
                lambda a=actor: list_tickets(a, parse_filters({"sla": "breached", "sort": "due"})),
                repeat,
            )
            out[f"counts_{who}"] = _timed(lambda a=actor: figures.breached_and_at_risk(a), repeat)
        out["dashboard_admin"] = _timed(lambda: dashboard_data(admin, 30), repeat)
        out["find_pending"] = _timed(
            lambda: alerts.due_for_alert(alerts.bt.as_utc(alerts.utcnow())), repeat
        )

        def one_sweep() -> None:
            sent = alerts.sweep()
            out["sent"] = sent
            db.session.rollback()

        out["sweep"] = _timed(one_sweep, max(1, repeat // 3))
        db.session.remove()
        db.engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "mysql"], default="sqlite")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--dir", default="/tmp/helpdesk-bench")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows = [measure(args.db, int(s), args.dir, args.repeat) for s in args.sizes.split(",")]
    print(f"\n## Service levels on {args.db} (ms, in-process, median of {args.repeat})\n")
    keys = [
        ("list_due_admin", "list sorted by next due (admin)"),
        ("list_due_technician", "list sorted by next due (technician)"),
        ("list_breached_admin", "list filtered breached (admin)"),
        ("list_breached_technician", "list filtered breached (technician)"),
        ("counts_admin", "breached / at-risk counts (admin)"),
        ("counts_technician", "breached / at-risk counts (technician)"),
        ("dashboard_admin", "whole dashboard JSON (admin)"),
        ("find_pending", "sweep: find pending alerts"),
        ("sweep", "sweep: one run, alerts sent (rolled back)"),
    ]
    print("| figure | " + " | ".join(f"{r['size']:,} tickets" for r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for key, label in keys:
        print(f"| {label} | " + " | ".join(f"{r[key]:.1f}" for r in rows) + " |")
    for r in rows:
        print(
            f"\n{r['size']:,}: {r['open']:,} open, {r['at_risk']:,} at risk, {r['sent']} alerts sent per sweep run"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
