"""Export jobs: large Excel files built by a background worker, with progress.

Why not in the web server: gunicorn runs the gevent worker, where a thread is a
greenlet; XlsxWriter's loop is pure CPU and never yields, so building a large
workbook inside a web worker would freeze every other request of that worker (and
past gunicorn's `timeout` the worker is killed). So a job is a row in
`export_jobs` (every process sees it) and a task (`reports.tasks.build_export`,
enqueued after the row is committed) that a `helpdesk worker` runs: it claims the
row, writes the file into EXPORT_DIR and reports its progress into the row.

Rules the task keeps:
- it exports as the job's owner with today's permissions (`visible_tickets`), in
  the language the owner used when starting it;
- every state change is a conditional UPDATE on its own short transaction
  (`_set`), never on the session that streams the rows: MySQL's unbuffered
  cursor keeps that connection busy and a commit would close PostgreSQL's
  server-side cursor. A job failed or removed meanwhile makes the UPDATE match
  nothing, and the task stops; the claim (queued → running) is conditional too, so
  a task delivered twice builds the file once;
- a heartbeat thread touches the row while the task runs; a job whose heartbeat
  stopped for STALE_AFTER (its worker was killed) is marked failed when it is next
  read and by the periodic sweep.

The database is the source of truth: the sweep (`reports.tasks.sweep_exports`)
also enqueues again the jobs still queued after REQUEUE_AFTER (the queue lost
them), and removes files and rows older than KEEP_FOR (so does
`helpdesk exports-cleanup`).
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import shutil
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from flask import current_app
from flask_babel import force_locale, format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, select, update
from sqlalchemy.engine import Engine

from helpdesk.db import after_commit, oldest_ids, rowcount, utcnow
from helpdesk.errors import Conflict, HelpdeskError, InvalidInput, NotFound, PermissionDenied
from helpdesk.extensions import db
from helpdesk.i18n import LOCALES
from helpdesk.jobs import enqueue_after_commit
from helpdesk.reports import permissions as perm
from helpdesk.reports import services as reports
from helpdesk.reports.models import ACTIVE_STATUSES, ExportJob, ExportStatus
from helpdesk.tickets import queries as tickets
from helpdesk.tickets.queries import TicketFilters
from helpdesk.users.models import User

log = logging.getLogger(__name__)

KEEP_FOR = timedelta(hours=24)
STALE_AFTER = timedelta(seconds=120)  # no heartbeat for this long: its worker is gone
HEARTBEAT_SECONDS = 15.0
# Still queued this long after it was started: the queue lost it (Redis restarted
# empty) or it waits behind others; enqueued again either way (a second delivery
# finds it claimed and does nothing).
REQUEUE_AFTER = timedelta(seconds=60)
SWEEP_BATCH = 200  # jobs per sweep run and kind: a backlog is worked off run by run
ACTIVE_PER_USER = 2  # each job is CPU-bound work: a person cannot start a pile
RUNNING_IN_TOTAL = 4  # nor can everyone together: jobs running at once
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet holds 1,048,576 rows, the header included
JOB_ID = re.compile(r"[0-9a-f]{32}")
# What the jobs leave in EXPORT_DIR: files, partial files, XlsxWriter's scratch folders.
OUR_FILES = re.compile(r"[0-9a-f]{32}\.(xlsx|part)|helpdesk-xlsx-\w+")
BUILD_TASK = "helpdesk.reports.tasks.build_export"


class JobAbandoned(Exception):
    """The job was failed (stale) or removed while the runner worked on it."""


# ---------------------------------------------------------------- web side


def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True, mode=0o700)  # personal data: owner only
    return path


def job_path(job_id: str) -> Path:
    return export_dir() / f"{job_id}.xlsx"


def job_filters(job: ExportJob) -> TicketFilters:
    return tickets.parse_filters(json.loads(job.filters))


def start_xlsx_job(
    actor: User, filters: TicketFilters, *, locale: str, ip: str | None = None
) -> ExportJob:
    """Queue an Excel export of `filters` for `actor`; the runner starts after commit.

    The same export already under way for the same person is returned instead of
    a second one (a double click, a reload of the form).
    """
    if not perm.can_export(actor):
        raise PermissionDenied("You cannot export tickets.")
    if locale not in LOCALES:
        locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "es")
    remove_expired()
    fail_stale()
    args = json.dumps(reports.filters_args(filters), sort_keys=True, default=str)
    mine = list(
        db.session.scalars(
            select(ExportJob).where(
                ExportJob.owner_id == actor.id, ExportJob.status.in_(ACTIVE_STATUSES)
            )
        )
    )
    for job in mine:
        if job.format == "xlsx" and job.filters == args:
            return job
    if len(mine) >= ACTIVE_PER_USER:
        raise Conflict(
            "You already have %(n)s exports in progress; wait for one to finish.", n=len(mine)
        )
    running = db.session.scalar(
        select(func.count()).select_from(ExportJob).where(ExportJob.status == ExportStatus.RUNNING)
    )
    if (running or 0) >= RUNNING_IN_TOTAL:
        raise Conflict("The server is busy with other exports; try again in a few minutes.")
    job = ExportJob(
        id=secrets.token_hex(16),
        owner_id=actor.id,
        format="xlsx",
        filters=args,
        locale=locale,
        status=ExportStatus.QUEUED,
        rows_done=0,
        file_name=reports.export_filename("xlsx"),
        created_at=utcnow(),
    )
    db.session.add(job)
    reports.record_export(actor, "xlsx", filters, ip=ip, job=job.id)
    # The task reads the row: enqueued only once the row is committed.
    enqueue_after_commit(BUILD_TASK, job.id)
    return job


def get_job(actor: User, job_id: str) -> ExportJob:
    """The job, for its owner only: anyone else gets NotFound, never a hint it exists."""
    job = db.session.get(ExportJob, job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None or job.owner_id != actor.id:
        raise NotFound("This export does not exist or has expired.")
    if job.active and fail_stale(job.id):
        db.session.refresh(job)
    return job


def recent_jobs(actor: User, limit: int = 5) -> list[ExportJob]:
    """`actor`'s jobs still kept (newest first), for the reports page."""
    fail_stale(owner_id=actor.id)
    return list(
        db.session.scalars(
            select(ExportJob)
            .where(ExportJob.owner_id == actor.id, ExportJob.created_at >= utcnow() - KEEP_FOR)
            .order_by(ExportJob.created_at.desc())
            .limit(limit)
        )
    )


STATUS_LABELS = {
    ExportStatus.QUEUED: _l("Waiting to start"),
    ExportStatus.RUNNING: _l("In progress"),
    ExportStatus.DONE: _l("Ready"),
    ExportStatus.FAILED: _l("Failed"),
}


def job_state(job: ExportJob) -> dict[str, Any]:
    """What the progress page and its JSON show, with translated text."""
    status = job.status
    done, total = job.rows_done or 0, job.rows_total
    if status == ExportStatus.DONE:
        percent = 100
    elif total:
        # 100 only when the file is ready: after the last row the zip is still packed.
        percent = min(99, math.floor(100 * done / total))
    else:
        percent = 0
    if status == ExportStatus.QUEUED:
        message = _("Waiting to start…")
    elif status == ExportStatus.RUNNING and total is None:
        message = _("Counting the tickets…")
    elif status == ExportStatus.RUNNING and total is not None and done < total:
        message = ngettext(
            "%(done)s of %(total)s row written…",
            "%(done)s of %(total)s rows written…",
            total,
            done=format_decimal(done),
            total=format_decimal(total),
        )
    elif status == ExportStatus.RUNNING:
        message = _("All rows written; packing the file…")
    elif status == ExportStatus.DONE:
        message = ngettext(
            "Ready: %(rows)s row.", "Ready: %(rows)s rows.", done, rows=format_decimal(done)
        )
    else:
        message = _("The export failed.")
    return {
        "id": job.id,
        "status": status.value,
        "status_text": str(STATUS_LABELS[status]),
        "active": job.active,
        "rows_done": done,
        "rows_total": total,
        "percent": percent,
        "percent_text": format_percent(percent / 100),
        "message": message,
        "error": job.error,
        "file_name": job.file_name,
    }


def open_job_file(actor: User, job_id: str) -> tuple[ExportJob, IO[bytes]]:
    """The finished file of `actor`'s job, opened (it may be removed meanwhile)."""
    job = get_job(actor, job_id)
    if job.status != ExportStatus.DONE:
        raise Conflict("This export is not ready yet.")
    try:
        return job, open(job_path(job.id), "rb")  # noqa: SIM115  the response closes it
    except FileNotFoundError:
        raise NotFound("This export does not exist or has expired.") from None


def fail_stale(
    job_id: str | None = None,
    *,
    owner_id: int | None = None,
    now: datetime | None = None,
    limit: int = SWEEP_BATCH,
) -> int:
    """Mark failed the running jobs (at most `limit`: all, `job_id`'s or `owner_id`'s)
    whose worker stopped giving signs of life.

    The message is stored in each job's own language (one UPDATE per language).
    """
    now = now or utcnow()
    cutoff = now - _seconds("EXPORT_STALE_SECONDS", STALE_AFTER)
    # Only claimed jobs go stale: a queued one waits for a worker however long it is
    # down (the sweep sends it again), as all background work does.
    stale = and_(ExportJob.status == ExportStatus.RUNNING, ExportJob.heartbeat_at < cutoff)
    query = select(ExportJob.id, ExportJob.locale).where(stale)
    if job_id is not None:
        query = query.where(ExportJob.id == job_id)
    if owner_id is not None:
        query = query.where(ExportJob.owner_id == owner_id)
    by_locale: dict[str, list[str]] = {}
    for found, locale in db.session.execute(query.limit(limit)):
        by_locale.setdefault(locale if locale in LOCALES else LOCALES[0], []).append(found)
    changed = 0
    for locale, ids in by_locale.items():
        with force_locale(locale):
            error = _("The export stopped before it finished (its process ended). Start it again.")
        # The condition again: a job that beat (or finished) meanwhile is left alone.
        result = db.session.execute(
            update(ExportJob)
            .where(ExportJob.id.in_(ids), stale)
            .values(status=ExportStatus.FAILED, error=error, finished_at=now)
            .execution_options(synchronize_session=False)
        )
        changed += rowcount(result)
    return changed


def remove_expired(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Delete jobs older than KEEP_FOR (the oldest `limit`) and, after commit, their
    files; also our files that old without a row (left by a worker that was killed).
    Returns the rows deleted."""
    now = now or utcnow()
    cutoff = now - KEEP_FOR
    ids = set(oldest_ids(db.session, ExportJob.id, ExportJob.created_at, cutoff, limit))
    if ids:
        db.session.execute(
            delete(ExportJob)
            .where(ExportJob.id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    folder = export_dir()
    oldest = cutoff.replace(tzinfo=timezone.utc).timestamp()

    def remove_files() -> None:
        for entry in folder.iterdir():
            if not OUR_FILES.fullmatch(entry.name):
                continue  # EXPORT_DIR may be shared: only our own names are touched
            try:
                if entry.name[:32] in ids or entry.stat().st_mtime < oldest:
                    if entry.is_dir():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        entry.unlink(missing_ok=True)
            except OSError:  # removed by another process meanwhile
                continue

    after_commit(db.session, remove_files)
    return len(ids)


def requeue_lost(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Enqueue again (after commit) the jobs still queued REQUEUE_AFTER after they
    were started, oldest first; returns how many."""
    now = now or utcnow()
    cutoff = now - _seconds("EXPORT_REQUEUE_SECONDS", REQUEUE_AFTER)
    ids = oldest_ids(
        db.session,
        ExportJob.id,
        ExportJob.created_at,
        cutoff,
        limit,
        ExportJob.status == ExportStatus.QUEUED,
    )
    for job_id in ids:
        enqueue_after_commit(BUILD_TASK, job_id)
    return len(ids)


def _seconds(key: str, default: timedelta) -> timedelta:
    """A duration the deployment (or a test with real workers) may shorten."""
    value = current_app.config.get(key)
    return timedelta(seconds=float(value)) if value else default


# ---------------------------------------------------------------- the task's work


def _set(engine: Engine, job_id: str, when: tuple[ExportStatus, ...], **values: Any) -> bool:
    """UPDATE the job if its status is one of `when`, in a transaction of its own."""
    with engine.begin() as conn:
        result = conn.execute(
            update(ExportJob)
            .where(ExportJob.id == job_id, ExportJob.status.in_(when))
            .values(**values)
        )
    return bool(result.rowcount)


class _Heartbeat(threading.Thread):
    """Touches the job every HEARTBEAT_SECONDS while the task runs, also during
    the long calls that report no progress (counting, packing the zip)."""

    def __init__(self, engine: Engine, job_id: str) -> None:
        super().__init__(name=f"export-heartbeat-{job_id[:8]}", daemon=True)
        self.engine = engine
        self.job_id = job_id
        self.every = _seconds("EXPORT_HEARTBEAT_SECONDS", timedelta(seconds=HEARTBEAT_SECONDS))
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every.total_seconds()):
            try:
                _set(self.engine, self.job_id, (ExportStatus.RUNNING,), heartbeat_at=utcnow())
            except Exception:  # a database hiccup: the next beat tries again
                log.warning("export job %s: heartbeat failed", self.job_id, exc_info=True)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.every.total_seconds())


def run_job(job_id: str) -> bool:
    """Run a queued job to its end in this process (the task calls it). False when it
    was not queued (already taken by another delivery, finished, or removed)."""
    engine = db.engine
    now = utcnow()
    if not _set(
        engine,
        job_id,
        (ExportStatus.QUEUED,),
        status=ExportStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
    ):
        return False
    db.session.rollback()  # a fresh transaction sees the claim (REPEATABLE READ on MySQL)
    job = db.session.get(ExportJob, job_id, populate_existing=True)
    assert job is not None
    folder = export_dir()
    final = folder / f"{job_id}.xlsx"
    partial = folder / f"{job_id}.part"
    heartbeat = _Heartbeat(engine, job_id)
    heartbeat.start()
    with force_locale(job.locale):
        try:
            rows = _write(engine, job, partial)
            os.replace(partial, final)
            finished = utcnow()
            if not _set(
                engine,
                job_id,
                (ExportStatus.RUNNING,),
                status=ExportStatus.DONE,
                rows_done=rows,
                rows_total=rows,
                heartbeat_at=finished,
                finished_at=finished,
            ):
                raise JobAbandoned
        except JobAbandoned:
            final.unlink(missing_ok=True)
            log.info("export job %s was failed or removed meanwhile; stopped", job_id)
        except BaseException as exc:  # also a worker stopping now: the row says so at once
            if isinstance(exc, HelpdeskError):
                error = exc.message
            else:
                log.exception("export job %s failed", job_id)
                error = _(
                    "The export failed. Please try again; if it fails again, tell an administrator."
                )
            _set(
                engine,
                job_id,
                ACTIVE_STATUSES,
                status=ExportStatus.FAILED,
                error=error[:500],
                finished_at=utcnow(),
            )
            if not isinstance(exc, Exception):
                raise
        finally:
            heartbeat.stop()
            # Whatever happened, the read transaction ends here (a later query in this
            # session would otherwise see the snapshot it started with on MySQL).
            db.session.rollback()
            partial.unlink(missing_ok=True)
    return True


def _write(engine: Engine, job: ExportJob, path: Path) -> int:
    """Count, then write the workbook to `path`, reporting progress; returns rows."""
    owner = db.session.get(User, job.owner_id)
    if owner is None or not perm.can_export(owner):
        raise PermissionDenied("You cannot export tickets.")
    filters = job_filters(job)
    total = tickets.count_tickets(owner, filters)
    if total > XLSX_MAX_ROWS:
        raise InvalidInput(
            "These filters match %(count)s tickets; an Excel sheet holds at most "
            "%(limit)s rows. Narrow the filters or export to CSV.",
            count=format_decimal(total),
            limit=format_decimal(XLSX_MAX_ROWS),
        )
    _progress(engine, job.id, rows_total=total)

    def progress(rows: int) -> None:
        _progress(engine, job.id, rows_done=rows)

    return reports.write_xlsx(owner, filters, str(path), progress=progress, tmpdir=str(path.parent))


def _progress(engine: Engine, job_id: str, **values: Any) -> None:
    if not _set(engine, job_id, (ExportStatus.RUNNING,), heartbeat_at=utcnow(), **values):
        raise JobAbandoned
