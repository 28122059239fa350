"""Page latency at two data sizes, against a real gunicorn (gevent) server on 127.0.0.1.

    .venv/bin/python bench/latency.py --db sqlite            # 10,000 and 1,000,000 tickets
    .venv/bin/python bench/latency.py --db postgresql --sizes 10000,1000000
    .venv/bin/python bench/latency.py --db mysql --sizes 10000 --drop

For each size: a demo database (seeded once with `helpdesk seed-demo`, then
reused), its own server, an administrator signed in; the servers run side by
side and each page is timed in rounds alternating between the sizes, so a slow
spell of a shared machine weighs on both sides of a ratio.  Pages: the default
ticket list, a filtered list with a text search, a deep page (page 2,000 via the
keyset cursor; the last page when there are fewer), the list sorted by next
service-level due and filtered "breached", a ticket with 50 comments,
the dashboard JSON, and ticket creation.  Each is timed sequentially and with 8
concurrent clients (p50/p95 in ms), and against its "floor": the very SQL the
page sends, captured in-process and replayed through the driver.  Then the
1M/10k ratios.  Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    BENCH_PASSWORD,
    Server,
    big_ticket_id,
    drop_database,
    encode_cursor,
    ensure_database,
    log,
    median,
    percentile,
    signed_in,
)

PAGES = ["list", "search", "deep", "due", "breached", "ticket", "dashboard", "create"]
LABELS = {
    "list": "ticket list (default view)",
    "search": "list filtered + text search",
    "deep": "deep page (cursor)",
    "due": "list sorted by next due",
    "breached": "list filtered breached",
    "ticket": "ticket page, 50 comments",
    "dashboard": "dashboard JSON",
    "create": "ticket creation (POST)",
}
SEARCH = "status=open&q=impresora"
CLIENTS = 8


def page_requests(url: str, base: str, session: Any, size: int) -> dict[str, tuple[str, str]]:
    """page → (method, path) for this database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        total = (
            conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar() if size <= 100000 else size
        )
        page = min(2000, max(1, total // 25 - 1))
        after = conn.execute(
            text("SELECT id FROM tickets ORDER BY id DESC LIMIT 1 OFFSET :o"),
            {"o": 25 * (page - 1) - 1},
        ).scalar()
        category = conn.execute(text("SELECT MIN(id) FROM categories")).scalar()
    engine.dispose()
    dashboard = "/dashboard/data"
    if session.get(base + dashboard, timeout=60).status_code == 404:
        dashboard = "/"
    return {
        "list": ("GET", "/tickets"),
        "search": ("GET", f"/tickets?{SEARCH}"),
        "deep": ("GET", f"/tickets?cursor={encode_cursor([after])}"),
        "due": ("GET", "/tickets?sort=due"),
        "breached": ("GET", "/tickets?sla=breached&sort=due"),
        "ticket": ("GET", f"/tickets/{big_ticket_id(url)}"),
        "dashboard": ("GET", dashboard),
        "create": ("POST", f"/tickets/new#{category}"),
    }, page


def one(session: Any, base: str, method: str, path: str) -> float:
    started = time.perf_counter()
    if method == "GET":
        r = session.get(base + path, timeout=120)
        ok = r.status_code == 200
    else:
        path, category = path.split("#")
        r = session.post(
            base + path,
            data={
                "title": "Bench: impresora nueva",
                "description": "Created by bench/latency.py",
                "category_id": category,
                "priority": "medium",
                "csrf_token": session.csrf,
            },
            allow_redirects=False,
            timeout=120,
        )
        ok = r.status_code == 302
    elapsed = (time.perf_counter() - started) * 1000
    if not ok:
        raise SystemExit(f"{method} {path}: HTTP {r.status_code}")
    return elapsed


def sequential(session: Any, base: str, method: str, path: str, n: int) -> list[float]:
    for _ in range(3):
        one(session, base, method, path)
    return [one(session, base, method, path) for _ in range(n)]


def concurrent(
    sessions: list[Any], base: str, method: str, path: str, n: int
) -> tuple[list[float], float]:
    times: list[float] = []
    lock = threading.Lock()
    # All clients start together, so every request really meets 7 others.
    start = threading.Barrier(len(sessions))

    def client(session: Any) -> None:
        start.wait()
        mine = [one(session, base, method, path) for _ in range(n)]
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=client, args=(s,)) for s in sessions]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, len(times) / (time.perf_counter() - started)


def sql_floor(url: str, pages: dict[str, tuple[str, str]], repeat: int) -> dict[str, float]:
    """Each page's statements captured in-process, replayed through the DB-API (ms, p50)."""
    from sqlalchemy import event

    from helpdesk import create_app
    from helpdesk.extensions import db

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
        }
    )
    floors: dict[str, float] = {}
    with app.app_context():
        client = app.test_client()
        r = client.post("/login", data={"username": "bench-admin", "password": BENCH_PASSWORD})
        assert r.status_code == 302, r.status_code
        for name, (method, path) in pages.items():
            captured: list[tuple[str, Any]] = []

            def before(conn, cursor, statement, parameters, context, executemany, log=captured):  # type: ignore[no-untyped-def]
                log.append((statement, parameters))

            if method == "GET":
                client.get(path)  # warm
            event.listen(db.engine, "before_cursor_execute", before)
            try:
                if method == "GET":
                    client.get(path)
                else:
                    path_, category = path.split("#")
                    client.post(
                        path_,
                        data={
                            "title": "Bench: floor capture",
                            "description": "x",
                            "category_id": category,
                            "priority": "medium",
                        },
                    )
            finally:
                event.remove(db.engine, "before_cursor_execute", before)
            if not any(s.lstrip().upper().startswith("INSERT") for s, _ in captured) and (
                method != "GET"
            ):
                raise SystemExit(f"floor capture of {name} wrote nothing")
            floors[name] = _replay(db.engine, captured, repeat, method != "GET")
    with app.app_context():
        db.engine.dispose()
    return floors


def _replay(engine: Any, statements: list[tuple[str, Any]], repeat: int, writes: bool) -> float:
    import secrets

    times = []
    raw = engine.raw_connection()
    try:
        for _ in range(repeat):
            # A write page's ticket number is unique: give each replay a fresh one.
            fresh = f"TKT-9999-{secrets.token_hex(3)}"
            started = time.perf_counter()
            cursor = raw.cursor()
            for statement, params in statements:
                word = statement.lstrip().split(None, 1)[0].upper()
                if word in ("BEGIN", "COMMIT", "ROLLBACK"):
                    continue
                if writes and params:
                    params = _swap_number(params, fresh)
                cursor.execute(statement, params or ())
                if cursor.description is not None:
                    cursor.fetchall()
            cursor.close()
            times.append((time.perf_counter() - started) * 1000)
            raw.rollback()  # leaves the data as it was
    finally:
        raw.close()
    return median(times)


def _swap_number(params: Any, fresh: str) -> Any:
    def swap(v: Any) -> Any:
        return fresh if isinstance(v, str) and v.startswith("TKT-") else v

    if isinstance(params, dict):
        return {k: swap(v) for k, v in params.items()}
    return tuple(swap(v) for v in params)


ROUNDS = 8


def per_round(requests: int) -> int:
    """Requests per page and size in each round (at least `requests` in all)."""
    return max(1, -(-requests // ROUNDS))


def measure(kind: str, sizes: list[int], args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    """Every size served at once, and each page timed in rounds that alternate between
    the sizes: a slow spell of a shared machine then falls on both sides of a ratio
    instead of on one of them."""
    results: dict[int, dict[str, Any]] = {}
    setups: dict[int, tuple[str, str, Any, list[Any], dict[str, tuple[str, str]]]] = {}
    with contextlib.ExitStack() as stack:
        for size in sizes:
            url, seeded = ensure_database(kind, size, args.dir)
            server = stack.enter_context(Server(url, processes=args.workers))
            admin = signed_in(server.base, "bench-admin", BENCH_PASSWORD)
            pages, deep_page = page_requests(url, server.base, admin, size)
            sessions = [
                signed_in(server.base, "bench-admin", BENCH_PASSWORD) for _ in range(CLIENTS)
            ]
            setups[size] = (url, server.base, admin, sessions, pages)
            results[size] = {"seeded": seeded, "deep_page": deep_page, "pages": {}}
        n = per_round(args.requests)
        for name in PAGES:
            seq: dict[int, list[float]] = {size: [] for size in sizes}
            conc: dict[int, list[float]] = {size: [] for size in sizes}
            rps: dict[int, list[float]] = {size: [] for size in sizes}
            for _ in range(ROUNDS):
                for size in sizes:
                    _url, base, admin, sessions, pages = setups[size]
                    method, path = pages[name]
                    seq[size] += sequential(admin, base, method, path, n)
                    times, rate = concurrent(sessions, base, method, path, n)
                    conc[size] += times
                    rps[size].append(rate)
            for size in sizes:
                results[size]["pages"][name] = {
                    "seq50": median(seq[size]),
                    "seq95": percentile(seq[size], 95),
                    "c50": median(conc[size]),
                    "c95": percentile(conc[size], 95),
                    "rps": median(rps[size]),
                }
                log(f"{kind} {size}: {name} p50 {median(seq[size]):.1f} ms")
    for size in sizes:
        url, *_rest, pages = setups[size]
        for name, floor in sql_floor(url, pages, args.requests).items():
            results[size]["pages"][name]["floor"] = floor
        if args.drop:
            drop_database(kind, size, args.dir)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "mysql"], default="sqlite")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument(
        "--requests",
        type=int,
        default=30,
        help="requests per page, sequentially and per concurrent client (rounded up to whole rounds)",
    )
    parser.add_argument("--dir", default="/tmp/helpdesk-bench", help="where SQLite files live")
    parser.add_argument(
        "--workers", type=int, default=1, help="gunicorn gevent processes (SQLite: keep 1)"
    )
    parser.add_argument("--drop", action="store_true", help="drop the databases afterwards")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = measure(args.db, sizes, args)

    print(f"\n## Page latency on {args.db} (ms; admin; gunicorn -k gevent -w {args.workers}; "
          f"{per_round(args.requests) * ROUNDS} sequential requests, {CLIENTS} clients)\n")  # fmt: skip
    print(
        "| page | tickets | seq p50 | seq p95 | 8 clients p50 | 8 clients p95 | 8 clients req/s | SQL floor p50 |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in PAGES:
        for size in sizes:
            p = results[size]["pages"][name]
            label = LABELS[name] + (
                f" (page {results[size]['deep_page']})" if name == "deep" else ""
            )
            print(
                f"| {label} | {size:,} | {p['seq50']:.1f} | {p['seq95']:.1f} | {p['c50']:.1f} "
                f"| {p['c95']:.1f} | {p['rps']:.0f} | {p['floor']:.2f} |"
            )
    for size in sizes:
        if results[size]["seeded"] is not None:
            print(f"\nseeded {size:,} tickets in {results[size]['seeded']:.0f} s")
    if len(sizes) >= 2:
        small, big = sizes[0], sizes[-1]
        print(
            f"\n## Ratios {big:,} / {small:,} tickets (target ≤ 1.5 for list, search, deep page, due lists, dashboard)\n"
        )
        print("| page | seq p50 ratio | 8 clients p50 ratio | SQL floor ratio |")
        print("|---|---:|---:|---:|")
        for name in PAGES:
            a, b = results[small]["pages"][name], results[big]["pages"][name]
            print(
                f"| {LABELS[name]} | {b['seq50'] / a['seq50']:.2f} | {b['c50'] / a['c50']:.2f} "
                f"| {b['floor'] / a['floor']:.2f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
