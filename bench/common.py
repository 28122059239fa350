"""Shared pieces of the benchmarks: scratch databases, a real gunicorn server, a signed-in client.

Databases are named by size and reused while they hold exactly that many demo
tickets (seeding a million takes minutes): SQLite files under --dir,
`helpdesk_bench_<n>` databases on PostgreSQL / MariaDB (127.0.0.1, the
project's test servers).  `--drop` removes them after the run.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/",
}
BENCH_PASSWORD = "Bench-" + "x7Q!" * 4
BIG_TICKET_TITLE = "Bench: a ticket with 50 comments"
SECRET_KEY = secrets.token_hex(32)


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def database_url(kind: str, size: int, directory: str) -> str:
    if kind == "sqlite":
        Path(directory).mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{Path(directory).resolve() / f'sqlite-{size}.db'}"
    return SERVERS[kind] + f"helpdesk_bench_{size}"


def _admin_engine(kind: str) -> Any:
    from sqlalchemy import create_engine

    base = SERVERS[kind] + ("postgres" if kind == "postgresql" else "")
    return create_engine(base, isolation_level="AUTOCOMMIT")


def _run_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "HELPDESK_ENV": "development",
        "REDIS_URL": "",
    }


def _ticket_total(url: str) -> int | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            # the maintained counters: instant even at a million rows
            return int(
                conn.execute(
                    # The finest rows (not the rollups): right in every schema version.
                    text(
                        "SELECT COALESCE(SUM(n), 0) FROM ticket_counts"
                        " WHERE assignee_key >= 0 AND category_id >= 0"
                    )
                ).scalar()
            )
    except Exception:
        return None
    finally:
        engine.dispose()


def _big_ticket(url: str) -> int | None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                text("SELECT id FROM tickets WHERE title = :t"), {"t": BIG_TICKET_TITLE}
            ).scalar()
    finally:
        engine.dispose()


def big_ticket_id(url: str) -> int:
    found = _big_ticket(url)
    assert found is not None
    return found


def drop_database(kind: str, size: int, directory: str) -> None:
    from sqlalchemy import text

    url = database_url(kind, size, directory)
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    engine = _admin_engine(kind)
    with engine.connect() as conn:
        name = f"helpdesk_bench_{size}"
        force = " WITH (FORCE)" if kind == "postgresql" else ""
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
    engine.dispose()


def ensure_database(kind: str, size: int, directory: str) -> tuple[str, float | None]:
    """A database with exactly `size` demo tickets; (url, seconds spent seeding or None)."""
    from sqlalchemy import text

    url = database_url(kind, size, directory)
    total = _ticket_total(url)
    # Reused while it holds the demo tickets plus what earlier runs created (a few %).
    if total is not None and size <= total <= size * 1.05 + 500:
        log(f"reusing the {kind} database with {total} tickets")
        # Apply migrations added since it was seeded (a no-op when at head).
        subprocess.run(
            [str(BIN / "helpdesk"), "init-db"], env=_run_env(url), check=True, capture_output=True
        )
        if _big_ticket(url) is None:
            _prepare(_run_env(url))
        return url, None
    drop_database(kind, size, directory)
    if kind != "sqlite":
        engine = _admin_engine(kind)
        with engine.connect() as conn:
            extra = " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci" if kind == "mysql" else ""
            conn.execute(text(f"CREATE DATABASE helpdesk_bench_{size}{extra}"))
        engine.dispose()
    env = _run_env(url)
    subprocess.run([str(BIN / "helpdesk"), "init-db"], env=env, check=True, capture_output=True)
    log(f"seeding {size} tickets on {kind} (helpdesk seed-demo)…")
    started = time.perf_counter()
    subprocess.run(
        [str(BIN / "helpdesk"), "seed-demo", "--tickets", str(size)], env=env, check=True
    )
    seeded = time.perf_counter() - started
    log(f"seeded {size} tickets on {kind} in {seeded:.0f} s")
    _prepare(env)
    return url, seeded


def _prepare(env: dict[str, str]) -> None:
    """A bench administrator and one ticket with 50 comments, through the services."""
    code = f"""
from helpdesk import create_app
from helpdesk.extensions import db
from helpdesk.tickets import services
from helpdesk.users.services import create_user, find_by_username
from helpdesk.users.models import User
from sqlalchemy import select
app = create_app()
with app.app_context():
    admin = find_by_username("bench-admin") or create_user(
        None, username="bench-admin", password={BENCH_PASSWORD!r}, role="admin",
        full_name="Bench Admin")
    tech = find_by_username("tech00001")
    user = find_by_username("user00001")
    ticket = services.create_ticket(user, title={BIG_TICKET_TITLE!r},
        description="Fifty comments follow.", category_id=services.list_categories()[0].id)
    services.assign_ticket(admin, ticket, tech.id)
    for i in range(50):
        services.add_comment(tech if i % 2 else user, ticket, f"Comment **{{i}}** on the long ticket")
    db.session.commit()
"""
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """gunicorn -k gevent -w <processes> on 127.0.0.1:<free port>, stopped on exit."""

    def __init__(self, url: str, processes: int = 1) -> None:
        self.url = url
        self.processes = processes

    def __enter__(self) -> Server:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = _run_env(self.url)
        env["GUNICORN_ACCESS_LOG"] = "/dev/null"
        env["GUNICORN_LOG_LEVEL"] = "warning"
        self.proc = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "-k", "gevent", "-w", str(self.processes), "--no-control-socket",
             "-b", f"127.0.0.1:{self.port}", "helpdesk.wsgi:app"],
            env=env, cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("the server exited at start")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5),
            ):
                return self
            time.sleep(0.2)
        raise SystemExit("the server did not start")

    def __exit__(self, *exc: Any) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def csrf_token(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    if not m:
        raise SystemExit("no CSRF token on the page")
    return m.group(1)


def signed_in(base: str, username: str, password: str) -> Any:
    import requests

    session = requests.Session()
    session.headers["Accept-Language"] = "en"
    page = session.get(f"{base}/login", timeout=30)
    r = session.post(
        f"{base}/login",
        data={"username": username, "password": password, "csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=30,
    )
    if r.status_code != 302:
        raise SystemExit(f"sign-in as {username} failed: {r.status_code}")
    session.csrf = csrf_token(session.get(f"{base}/tickets/new", timeout=30).text)
    return session


def encode_cursor(values: list[Any]) -> str:
    """The list's keyset cursor (same encoding as tickets.services)."""
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
