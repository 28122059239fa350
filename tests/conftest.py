"""Shared fixtures: one fresh database (or schema) per test, real servers only.

TEST_DATABASE_URL picks the server: unset → SQLite file in tmp_path;
mysql+pymysql://root@127.0.0.1:3306/ → a new database per test;
postgresql+psycopg://postgres@127.0.0.1:5432/postgres → a new schema per test.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from helpdesk import create_app
from helpdesk.config import normalise_database_url
from helpdesk.extensions import db as _db

PASSWORD = "Corr3ct-Horse-Battery"


def backend() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if url.startswith(("mysql", "mariadb")):
        return "mysql"
    if url.startswith("postgres"):
        return "postgresql"
    return "sqlite"


class TestDatabase:
    """Creates and drops one isolated database (MySQL) or schema (PostgreSQL) or file."""

    def __init__(self, tmp_path: Any) -> None:
        self.kind = backend()
        self.name = f"hdt_{uuid.uuid4().hex[:12]}"
        base = os.environ.get("TEST_DATABASE_URL", "")
        if self.kind == "sqlite":
            self.url = f"sqlite:///{(tmp_path / 'test.db').as_posix()}"
            self._admin = None
            return
        base_url = make_url(normalise_database_url(base))
        self._admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            if self.kind == "mysql":
                conn.execute(text(f"CREATE DATABASE {self.name} CHARACTER SET utf8mb4 "
                                  "COLLATE utf8mb4_unicode_ci"))  # fmt: skip
                self.url = base_url.set(database=self.name).render_as_string(hide_password=False)
            else:
                conn.execute(text(f"CREATE SCHEMA {self.name}"))
                self.url = base_url.update_query_dict(
                    {"options": f"-csearch_path={self.name}"}
                ).render_as_string(hide_password=False)

    def drop(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as conn:
            if self.kind == "mysql":
                conn.execute(text(f"DROP DATABASE IF EXISTS {self.name}"))
            else:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {self.name} CASCADE"))
        self._admin.dispose()


@pytest.fixture
def database(tmp_path) -> Iterator[TestDatabase]:
    tdb = TestDatabase(tmp_path)
    yield tdb
    tdb.drop()


class Client(FlaskClient):
    """Test client that sends a valid CSRF token with every form POST unless told not to.

    It asks for English pages (Accept-Language: en) so tests can assert the source
    strings; the app's default is Spanish, and tests of language choice set the header.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base.setdefault("HTTP_ACCEPT_LANGUAGE", "en")

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            if "csrf_token" not in sess:
                sess["csrf_token"] = secrets.token_hex(20)
            raw = sess["csrf_token"]
        signer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return signer.dumps(raw)

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any):  # type: ignore[override]
        if csrf and not kwargs.get("json"):
            data = kwargs.setdefault("data", {})
            if isinstance(data, dict) and "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
        return super().post(*args, **kwargs)

    def login(self, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
        return self.post("/login", data={"username": username, "password": password})


def make_app(database: TestDatabase, tmp_path: Any, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": database.url,
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        "RATELIMIT_ENABLED": False,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
        "SERVER_NAME": None,
        # A queue of the test's own that nobody consumes unless the test starts a
        # worker (`worker_process`): export jobs stay queued until a test runs them
        # (reports.jobs.run_job); "immediate" runs tasks inline instead.
        "JOBS_BACKEND": "sqlite",
        "JOBS_SQLITE_PATH": str(tmp_path / "jobs.db"),
        "JOBS_REDIS_PREFIX": f"hdt_{uuid.uuid4().hex[:12]}",
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = Client
    return app


@pytest.fixture
def app(database, tmp_path) -> Iterator[Flask]:
    app = make_app(database, tmp_path)
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def make_user(app):  # type: ignore[no-untyped-def]
    from helpdesk.users import services as users

    counter = {"n": 0}

    def factory(role: str = "user", username: str | None = None, **kwargs: Any):  # type: ignore[no-untyped-def]
        counter["n"] += 1
        user = users.create_user(
            None,
            username=username or f"{role}{counter['n']}",
            password=kwargs.pop("password", PASSWORD),
            role=role,
            full_name=kwargs.pop("full_name", f"{role.title()} {counter['n']}"),
            **kwargs,
        )
        _db.session.commit()
        return user

    return factory


@pytest.fixture
def category(app):  # type: ignore[no-untyped-def]
    from helpdesk.tickets.services import create_category

    cat = create_category(None, "Hardware", "Machines")
    _db.session.commit()
    return cat


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    """A small cast: admin, two technicians, two users."""
    return {
        "admin": make_user("admin", "boss"),
        "tech": make_user("technician", "tech"),
        "tech2": make_user("technician", "tech2"),
        "user": make_user("user", "alice"),
        "user2": make_user("user", "bob"),
    }


@pytest.fixture
def make_ticket(app, category):  # type: ignore[no-untyped-def]
    from helpdesk.tickets import services

    def factory(requester, title: str = "Printer on fire", **kwargs: Any):  # type: ignore[no-untyped-def]
        ticket = services.create_ticket(
            requester,
            title=title,
            description=kwargs.pop("description", "It is **really** on fire."),
            category_id=kwargs.pop("category_id", category.id),
            priority=kwargs.pop("priority", "medium"),
            **kwargs,
        )
        _db.session.commit()
        return ticket

    return factory


# ---------------------------------------------------------------- live server + browser


class LiveServer:
    """The real app (HTTP + Socket.IO, threading mode) on 127.0.0.1:<free port>."""

    def __init__(self, app: Flask) -> None:
        import threading

        from werkzeug.serving import make_server

        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@contextlib.contextmanager
def serving(database: TestDatabase, tmp_path: Any, **overrides: Any) -> Iterator[LiveServer]:
    """The app (with `overrides` to its config) served on 127.0.0.1 while the block runs."""
    app = make_app(database, tmp_path, SOCKETIO_ASYNC_MODE="threading", **overrides)
    with app.app_context():
        _db.create_all()
        _db.session.remove()
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def live_server(database, tmp_path) -> Iterator[LiveServer]:
    """A served app with its own database; create data through `live_server.app`.

    Use `with live_server.app.app_context():` around service calls in the test.
    """
    with serving(database, tmp_path) as server:
        yield server


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # type: ignore[no-untyped-def]
    """pytest-playwright's launch arguments: Debian's Chromium, never a downloaded build."""
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


def browser_login(page, live: LiveServer, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(live.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("domcontentloaded")


# ---------------------------------------------------------------- background worker


REDIS_TEST_URL = "redis://127.0.0.1:6379/0"


def wait_for(predicate: Any, what: str, timeout: float = 60.0, every: float = 0.1) -> Any:
    """Poll `predicate` until it returns something truthy; fail naming `what`.

    The deadline only bounds a broken run; nothing asserts how fast it was."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(every)


class WorkerProcess:
    """A real `helpdesk worker` for `app`'s database and queue, started and stopped by PID.

    `env` adds settings (the worker reads its config from the environment, like any
    process); `modules` are extra task modules it imports (`--import`).
    """

    def __init__(
        self,
        app: Flask,
        log_path: Any,
        *,
        workers: int = 1,
        modules: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        from helpdesk.jobs.worker import worker_env

        self.app = app
        self.log_path = log_path
        self.workers = workers
        self.modules = modules
        self.env = worker_env(app)
        self.env.update(env or {})
        self.proc: Any = None

    @property
    def pid(self) -> int:
        return int(self.proc.pid)

    def start(self) -> WorkerProcess:
        import subprocess
        import sys
        from pathlib import Path

        args = [sys.executable, "-m", "helpdesk", "worker", "--workers", str(self.workers)]
        for module in self.modules:
            args += ["--import", module]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                env=self.env,
                cwd=str(Path(__file__).resolve().parent.parent),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        """Until its heartbeat row is in the database (the queue is then being read)."""
        import socket

        from helpdesk.jobs.models import JobWorker

        me = f"{socket.gethostname()}:{self.pid}"

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}):\n{self.log()}")
            with self.app.app_context():
                found = _db.session.get(JobWorker, me) is not None
                _db.session.remove()
            return found

        wait_for(ready, "the worker's first heartbeat")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, sig: int | None = None, timeout: float = 30) -> int | None:
        """Ctrl-C (SIGINT: finish the tasks under way) or `sig`; SIGKILL if it hangs."""
        import signal
        import subprocess

        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        os.kill(self.pid, sig if sig is not None else signal.SIGINT)
        try:
            return int(self.proc.wait(timeout=timeout))
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            return int(self.proc.wait(timeout=timeout))

    def kill(self) -> None:
        import signal

        self.stop(signal.SIGKILL)


@pytest.fixture
def worker_process(tmp_path):  # type: ignore[no-untyped-def]
    """Start real workers: `worker_process(app, workers=2, env={...})` → a running
    WorkerProcess (its output in tmp_path/worker-N.log); all stopped at teardown."""
    started: list[WorkerProcess] = []

    def start(app: Flask, **kwargs: Any) -> WorkerProcess:
        worker = WorkerProcess(app, tmp_path / f"worker-{len(started) + 1}.log", **kwargs)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def worker_reported(app: Flask, seconds_ago: float = 0) -> None:
    """A heartbeat row as a worker leaves it (data for the health checks; the tests in
    tests/jobs/ see real workers write them)."""
    from datetime import timedelta

    from helpdesk.db import utcnow
    from helpdesk.jobs.models import JobWorker

    with app.app_context():
        seen = utcnow() - timedelta(seconds=seconds_ago)
        _db.session.merge(
            JobWorker(id="test:1", backend="sqlite", threads=1, started_at=seen, seen_at=seen)
        )
        _db.session.commit()
        _db.session.remove()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A Redis key name of this test's own for the queue; its keys removed afterwards."""
    import redis

    prefix = f"hdt_{uuid.uuid4().hex[:12]}"
    yield prefix
    conn = redis.Redis.from_url(REDIS_TEST_URL)
    keys = list(conn.scan_iter(match=f"huey.*{prefix}*"))
    if keys:
        conn.delete(*keys)
    conn.close()
