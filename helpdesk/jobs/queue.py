"""One Huey instance for the process; its storage is chosen by the Flask app.

Task decorators run at import time, long before `create_app` reads the settings,
and the tests build many apps (each with its own queue) in one process. So the
module-level `huey` is an `AppHuey`: its `storage` (and whether it runs tasks
inline, `immediate`) is looked up on each use from the app of the current app
context, or, where there is none (the consumer's worker and scheduler threads),
from the app the process bound last with `init_app`. Each app builds its own
storage lazily, on first use, from JOBS_BACKEND / JOBS_SQLITE_PATH /
JOBS_REDIS_PREFIX.

A task runs in an app context of its own (so its own database session) inside
`unit_of_work()`: it commits once or rolls back and raises, and Huey retries it.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey import crontab as crontab
from huey.api import TaskWrapper
from huey.signals import SIGNAL_ERROR
from huey.storage import BaseStorage, MemoryStorage, PriorityRedisExpireStorage, SqliteStorage
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from helpdesk.config import ConfigError
from helpdesk.db import after_commit, rowcount, utcnow
from helpdesk.extensions import current_app_object, db
from helpdesk.transaction import unit_of_work

log = logging.getLogger(__name__)

BACKENDS = ("sqlite", "redis", "immediate")
EXTENSION = "helpdesk.jobs"
RESULTS_KEPT_SECONDS = 3600  # Redis: what a task returned is kept this long
PLAIN = (int, float, str, bool, type(None))

F = TypeVar("F", bound=Callable[..., Any])


class _AppQueue:
    """One app's queue settings and (built on first use) its storage."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.backend = str(config.get("JOBS_BACKEND") or "sqlite")
        if self.backend not in BACKENDS:
            raise ConfigError(
                f"JOBS_BACKEND={self.backend!r} is not one of {', '.join(BACKENDS)}; "
                "leave it unset for sqlite (or redis when REDIS_URL is set)"
            )
        self.redis_url = config.get("REDIS_URL")
        if self.backend == "redis" and not self.redis_url:
            raise ConfigError("JOBS_BACKEND=redis needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
        self.name = str(config.get("JOBS_REDIS_PREFIX") or "helpdesk")
        self.sqlite_path = str(config.get("JOBS_SQLITE_PATH") or "")
        self._storage: BaseStorage | None = None
        self._lock = threading.Lock()

    @property
    def storage(self) -> BaseStorage:
        if self._storage is None:
            with self._lock:
                if self._storage is None:
                    self._storage = self._build()
        return self._storage

    def _build(self) -> BaseStorage:
        if self.backend == "redis":
            # Priorities need the sorted-set queue; the "expire" flavour keeps each
            # result and lock as its own key with a TTL (plain Redis 7.0 has no
            # per-field TTL in a hash).
            return PriorityRedisExpireStorage(
                self.name, url=self.redis_url, expire_time=RESULTS_KEPT_SECONDS
            )
        if self.backend == "sqlite":
            from pathlib import Path

            Path(self.sqlite_path).parent.mkdir(parents=True, exist_ok=True)
            return _SqliteQueue(self.name, filename=self.sqlite_path, timeout=30)
        return MemoryStorage(self.name)

    def close(self) -> None:
        if self._storage is not None:
            self._storage.close()


class _SqliteQueue(SqliteStorage):
    """Huey's SQLite storage with the app database's durability: WAL with
    synchronous=NORMAL (no fsync per enqueue; a power cut may lose the last few
    signals, which the sweeps send again from the database)."""

    def _create_connection(self) -> Any:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class _PlainArgsTask(TaskWrapper):
    """Enqueueing checks the arguments: ids and plain values, never ORM objects
    (a row read in the web process is stale by the time the worker runs)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        _check_plain(self.task_class.__name__, args, kwargs)
        return super().__call__(*args, **kwargs)

    def schedule(self, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        if isinstance(args, tuple | list):
            _check_plain(self.task_class.__name__, tuple(args), kwargs or {})
        return super().schedule(args, kwargs, **options)


def _check_plain(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    def plain(value: Any) -> bool:
        if isinstance(value, PLAIN):
            return True
        if isinstance(value, list | tuple):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        return False

    for value in (*args, *kwargs.values()):
        if not plain(value):
            raise TypeError(f"task {name} takes ids and plain values, not {type(value).__name__}")


class AppHuey(Huey):
    def __init__(self) -> None:
        self.bound_app: Flask | None = None
        self._fallback: BaseStorage = MemoryStorage("helpdesk-unbound")
        super().__init__("helpdesk", results=True, utc=True, storage_class=MemoryStorage)

    # -- per-app storage and mode (Huey reads these attributes everywhere)

    def app(self) -> Flask | None:
        if has_app_context() and EXTENSION in current_app.extensions:
            return current_app_object()
        return self.bound_app

    def _queue(self) -> _AppQueue | None:
        app = self.app()
        return app.extensions[EXTENSION] if app is not None else None

    @property
    def storage(self) -> BaseStorage:
        queue = self._queue()
        return queue.storage if queue is not None else self._fallback

    @storage.setter
    def storage(self, value: BaseStorage) -> None:
        self._fallback = value  # Huey's own constructor sets one; the apps' win

    @property
    def _immediate(self) -> bool:
        queue = self._queue()
        return queue is not None and queue.backend == "immediate"

    @_immediate.setter
    def _immediate(self, value: bool) -> None:
        pass  # JOBS_BACKEND decides

    def get_task_wrapper_class(self) -> type[TaskWrapper]:
        return _PlainArgsTask

    # -- periodic tasks: one run per minute slot, whatever the number of workers

    def read_periodic(self, timestamp: datetime | None) -> list[Any]:
        due = super().read_periodic(timestamp)
        if not due:
            return []
        slot = (timestamp or self._get_timestamp()).replace(second=0, microsecond=0)
        return [task for task in due if claim_slot(task_name(task), slot)]


huey = AppHuey()


def init_app(app: Flask) -> None:
    """Give `app` its queue and bind it as the process's default (the worker's app)."""
    old = app.extensions.get(EXTENSION)
    if old is not None:
        old.close()
    app.extensions[EXTENSION] = _AppQueue(app)
    huey.bound_app = app
    import importlib

    from helpdesk.jobs.registry import TASK_MODULES

    for module in TASK_MODULES:
        importlib.import_module(module)


def backend(app: Flask | None = None) -> str:
    app = app or current_app
    return str(app.extensions[EXTENSION].backend)


def _task_app() -> Flask:
    app = huey.app()
    if app is None:
        raise RuntimeError("no Flask app for the task: call helpdesk.jobs.init_app(app)")
    return app


def _in_unit_of_work(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        # A fresh app context: its own session, never the enqueuer's (in immediate
        # mode the enqueuer's transaction has just committed, or is still open).
        with _task_app().app_context(), unit_of_work():
            return fn(*args, **kwargs)

    return run


def task(
    *,
    retries: int = 0,
    retry_delay: float = 0,
    retry_backoff: float = 2.0,
    priority: int | None = None,
    timeout: float | None = None,
    name: str | None = None,
) -> Callable[[F], Any]:
    """A background task: `fn(*ids)` enqueues it; the worker runs it in an app context
    inside `unit_of_work()`. A raise is retried `retries` times, waiting
    `retry_delay` seconds, then `retry_backoff` times longer at each new try; after
    the last it is recorded in `job_failures`. Higher `priority` runs first."""

    def decorator(fn: F) -> Any:
        return huey.task(
            retries=retries,
            retry_delay=retry_delay,
            retry_backoff=retry_backoff if retry_delay else 0,
            priority=priority,
            timeout=timeout,
            name=name,
        )(_in_unit_of_work(fn))

    return decorator


def periodic_task(
    schedule: Callable[[datetime], bool],
    *,
    retries: int = 0,
    retry_delay: float = 0,
    priority: int | None = None,
    name: str | None = None,
) -> Callable[[F], Any]:
    """A task the workers' schedulers enqueue when `schedule` (a `crontab`, in UTC)
    matches the minute; with several workers only one enqueues each minute."""

    def decorator(fn: F) -> Any:
        return huey.periodic_task(
            schedule, retries=retries, retry_delay=retry_delay, priority=priority, name=name
        )(_in_unit_of_work(fn))

    return decorator


def enqueue_after_commit(fn: Callable[..., Any] | str, *args: Any) -> None:
    """Enqueue task `fn(*args)` once the current transaction commits; never on rollback.

    `fn` is the task or its name ("helpdesk.reports.tasks.build_export"): a service
    that enqueues its feature's task by name needs no import of the tasks module,
    which imports the services (no cycle).

    If the queue cannot take it (Redis down), the commit still stands: the row that
    needs the work is in the database, and the periodic sweep enqueues it again.
    """
    label = fn if isinstance(fn, str) else getattr(fn, "name", None) or repr(fn)
    _check_plain(label, args, {})
    if isinstance(fn, str):
        task_by_name(fn)  # an unknown name fails here, in the caller, not after commit
    app = current_app_object()

    def enqueue() -> None:
        try:
            with app.app_context():
                enqueue_now(fn, *args)
        except Exception:
            log.warning("could not enqueue %s%r; the sweep will retry", label, args, exc_info=True)

    # Begin the transaction if none is open yet, so a rollback before the commit
    # drops the callback as it drops the data.
    db.session.connection()
    after_commit(db.session, enqueue)


def task_by_name(name: str) -> type[Any]:
    try:
        return huey._registry.string_to_task(name)
    except Exception:
        raise LookupError(
            f"no task {name!r}: is its module listed in helpdesk/jobs/registry.py?"
        ) from None


def enqueue_now(fn: Callable[..., Any] | str, *args: Any) -> Any:
    """Enqueue at once (outside a transaction: a sweep re-sending what the queue lost)."""
    if isinstance(fn, str):
        _check_plain(fn, args, {})
        return huey.enqueue(task_by_name(fn)(args, {}))
    return fn(*args)


def task_name(task: Any) -> str:
    """The registered name (module.function): two features may both have a `sweep`."""
    return f"{type(task).__module__}.{task.name}"


def claim_slot(name: str, slot: datetime) -> bool:
    """True for the one caller that moves `name`'s last slot up to `slot`."""
    from helpdesk.jobs.models import JobSchedule

    try:
        with _task_app().app_context(), unit_of_work():
            moved = db.session.execute(
                update(JobSchedule)
                .where(JobSchedule.name == name, JobSchedule.last_slot < slot)
                .values(last_slot=slot)
                .execution_options(synchronize_session=False)
            )
            if rowcount(moved):
                return True
            if db.session.get(JobSchedule, name) is not None:
                return False  # another worker took this minute
            db.session.add(JobSchedule(name=name, last_slot=slot))
            db.session.flush()
            return True
    except IntegrityError:
        return False  # another worker inserted it first
    except Exception:
        log.exception("periodic task %s: cannot claim %s; skipped this minute", name, slot)
        return False


@huey.signal(SIGNAL_ERROR)
def _record_failure(signal: str, task: Any, exc: BaseException | None = None) -> None:
    """After the last try, the failure is a row (what, with what, why)."""
    if task.retries:
        return  # Huey retries it
    from helpdesk.jobs.models import JobFailure

    try:
        with _task_app().app_context(), unit_of_work():
            db.session.add(
                JobFailure(
                    task=task_name(task)[:200],
                    task_id=str(task.id)[:64],
                    args=json.dumps(list(task.args), default=str)[:10000],
                    error=f"{type(exc).__name__}: {exc}"[:10000],
                    failed_at=utcnow(),
                )
            )
    except Exception:
        log.exception("could not record the failure of task %s", task.id)
