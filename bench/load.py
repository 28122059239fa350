"""Mixed authenticated load against a real gunicorn (gevent) server on 127.0.0.1.

    .venv/bin/python bench/load.py --db sqlite --size 1000000
    .venv/bin/python bench/load.py --db postgresql --size 10000 --seconds 60 --clients 16

16 signed-in clients (2 administrators, 6 technicians, 8 users of the demo data)
for 60 s, read-mostly: ticket list, search, next page, a ticket, the
dashboard JSON; about 1 request in 10 writes (a new ticket or a comment).
Prints requests/s, latency percentiles per kind and the error count (any
5xx, unexpected status, or failed connection).  Bounded in time; stops by itself.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_PASSWORD,
    Server,
    drop_database,
    ensure_database,
    log,
    median,
    percentile,
    signed_in,
)

DEMO_PASSWORD = "demo-password-1"  # noqa: S105  helpdesk.demo's accounts
WORDS = ["impresora", "vpn", "outlook", "factura", "monitor", "password", "licencia", "wi"]


def accounts(url: str, clients: int) -> list[tuple[str, str]]:
    """2 in 16 administrators, 6 technicians, 8 users (as many as the demo data has)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:

        def names(role: str, n: int) -> list[str]:
            rows = conn.execute(
                text("SELECT username FROM users WHERE role = :r AND username LIKE :p "
                     "ORDER BY id LIMIT :n"),
                {"r": role, "p": role[:4] + "0%", "n": n},
            )  # fmt: skip
            return [r[0] for r in rows]

        techs = names("technician", clients * 3 // 8)
        users = names("user", clients)
    engine.dispose()
    admins = [("bench-admin", BENCH_PASSWORD)] * max(1, clients // 8)
    people = admins + [(t, DEMO_PASSWORD) for t in techs]
    return (people + [(u, DEMO_PASSWORD) for u in users])[:clients]


def worker(s: Any, base: str, username: str, deadline: float, out: dict[str, Any]) -> None:
    rng = random.Random(username)
    category = out["category"]
    seen: list[int] = []
    while time.monotonic() < deadline:
        roll = rng.random()
        try:
            started = time.perf_counter()
            if roll < 0.05:
                kind = "create"
                r = s.post(
                    f"{base}/tickets/new",
                    data={
                        "title": f"Load test: {rng.choice(WORDS)} {rng.randint(1, 999)}",
                        "description": "Created under load",
                        "category_id": category,
                        "priority": rng.choice(["low", "medium", "high"]),
                        "csrf_token": s.csrf,
                    },
                    allow_redirects=False,
                    timeout=60,
                )
                ok = r.status_code == 302
                if ok:
                    seen.append(int(r.headers["Location"].rstrip("/").split("/")[-1]))
            elif roll < 0.10 and seen:
                kind = "comment"
                r = s.post(
                    f"{base}/tickets/{rng.choice(seen)}/comments",
                    data={"body": "A comment under load", "csrf_token": s.csrf},
                    allow_redirects=False,
                    timeout=60,
                )
                ok = r.status_code == 302
            elif roll < 0.35:
                kind = "list"
                r = s.get(f"{base}/tickets", timeout=60)
                ok = r.status_code == 200
            elif roll < 0.50:
                kind = "search"
                r = s.get(f"{base}/tickets", params={"q": rng.choice(WORDS)}, timeout=60)
                ok = r.status_code == 200
            elif roll < 0.60:
                kind = "next page"
                first = s.get(f"{base}/tickets", timeout=60)
                cursor = (
                    first.text.split("cursor=", 1)[1].split('"', 1)[0]
                    if "cursor=" in first.text
                    else ""
                )
                r = s.get(f"{base}/tickets", params={"cursor": cursor}, timeout=60)
                ok = first.status_code == 200 and r.status_code == 200
            elif roll < 0.85:
                kind = "ticket"
                if seen and rng.random() < 0.5:
                    ticket = rng.choice(seen)
                else:
                    listing = s.get(f"{base}/tickets", timeout=60).text
                    ids = [int(x) for x in _ticket_links(listing)]
                    ticket = rng.choice(ids) if ids else 0
                r = s.get(f"{base}/tickets/{ticket}", timeout=60) if ticket else None
                ok = r is None or r.status_code == 200
            else:
                kind = "dashboard"
                r = s.get(f"{base}/dashboard/data", timeout=60)
                ok = r.status_code in (200, 404)
            elapsed = (time.perf_counter() - started) * 1000
            with out["lock"]:
                out["times"][kind].append(elapsed)
                if not ok:
                    out["errors"][f"{kind}: HTTP {r.status_code if r is not None else '?'}"] += 1
        except Exception as exc:
            with out["lock"]:
                out["errors"][f"{type(exc).__name__}: {str(exc)[:80]}"] += 1


def _ticket_links(html: str) -> list[str]:
    import re

    return re.findall(r'href="/tickets/(\d+)"', html)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "mysql"], default="sqlite")
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--dir", default="/tmp/helpdesk-bench")
    parser.add_argument(
        "--workers", type=int, default=1, help="gunicorn gevent processes (SQLite: keep 1)"
    )
    parser.add_argument("--drop", action="store_true")
    args = parser.parse_args()
    url, _seeded = ensure_database(args.db, args.size, args.dir)
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        category = str(conn.execute(text("SELECT MIN(id) FROM categories")).scalar())
    engine.dispose()
    out: dict[str, Any] = {
        "lock": threading.Lock(),
        "times": defaultdict(list),
        "errors": Counter(),
        "category": category,
    }
    with Server(url, processes=args.workers) as server:
        # Sign-ins first (Argon2 is slow on purpose), then the clock starts.
        people = accounts(url, args.clients)
        sessions = [(signed_in(server.base, u, p), u) for u, p in people]
        log(f"{args.clients} clients for {args.seconds} s on {args.db} ({args.size:,} tickets)")
        deadline = time.monotonic() + args.seconds
        started = time.perf_counter()
        threads = [
            threading.Thread(target=worker, args=(s, server.base, u, deadline, out))
            for s, u in sessions
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 120)
        wall = time.perf_counter() - started
    total = sum(len(v) for v in out["times"].values())
    errors = sum(out["errors"].values())
    print(f"\n## Mixed load on {args.db}, {args.size:,} tickets: {args.clients} clients, "
          f"{args.seconds} s, gunicorn -k gevent -w {args.workers}\n")  # fmt: skip
    print("| kind | requests | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    for kind, times in sorted(out["times"].items()):
        print(f"| {kind} | {len(times)} | {median(times):.0f} | {percentile(times, 95):.0f} |")
    print(f"\n**{total / wall:.1f} requests/s**, {total} requests, **{errors} errors**")
    for what, n in out["errors"].most_common():
        print(f"  {n} × {what}")
    if args.drop:
        drop_database(args.db, args.size, args.dir)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
