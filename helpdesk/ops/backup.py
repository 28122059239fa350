"""`helpdesk backup` and `helpdesk restore`: one archive with the database, the uploads
and the settings that are not secrets, with a manifest of checksums.

Every archive holds a portable dump (one JSON-lines file per table, read through
SQLAlchemy in one snapshot), which is what `restore` loads, into any of the three
databases. Beside it goes the database's own copy where the tools exist: SQLite's
online backup API (the portable dump is then read from that copy, so both agree), or
`pg_dump` / `mysqldump` output for operators who prefer their native tools.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import Connection, Engine, make_url

from helpdesk.db import utcnow
from helpdesk.extensions import db

FORMAT = 1
BATCH = 1000
# Runtime state, not data: sessions must not outlive a restore, workers and schedule
# slots belong to the running processes, export jobs point at files kept elsewhere
# for a day.
SKIPPED_TABLES = {"login_sessions", "job_workers", "job_schedule", "job_failures", "export_jobs"}
# Filled by triggers as tickets are inserted: loaded again after the tickets, as dumped.
DERIVED_TABLES = ("ticket_counts", "ticket_days")
SETTINGS = (
    "HELPDESK_ENV",
    "BABEL_DEFAULT_LOCALE",
    "MAX_UPLOAD_MB",
    "MAX_FILES_PER_UPLOAD",
    "SESSION_TIMEOUT_MINUTES",
    "SESSION_ABSOLUTE_HOURS",
    "TRUSTED_PROXIES",
    "JOBS_BACKEND",
)


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why and what to do."""


# ---------------------------------------------------------------- values


def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, time):
        return {"$t": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    return value


_DECODERS: dict[str, Callable[[str], Any]] = {
    "$dt": datetime.fromisoformat,
    "$d": date.fromisoformat,
    "$t": time.fromisoformat,
    "$b": base64.b64decode,
    "$dec": Decimal,
}


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag in _DECODERS:
            return _DECODERS[tag](raw)
    return value


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- tables


def backed_up_tables() -> list[Any]:
    """Every model table but runtime state, parents before children."""
    return [t for t in db.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def table_counts(connection: Connection) -> dict[str, int]:
    return {
        t.name: int(connection.scalar(select(func.count()).select_from(t)) or 0)
        for t in backed_up_tables()
    }


def _dump_tables(connection: Connection, folder: Path) -> dict[str, int]:
    counts = {}
    for table in backed_up_tables():
        order = list(table.primary_key.columns) or list(table.columns)
        path = folder / f"{table.name}.jsonl"
        n = 0
        with path.open("w", encoding="utf-8") as out:
            for row in connection.execute(select(table).order_by(*order)).mappings():
                out.write(json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False))
                out.write("\n")
                n += 1
        counts[table.name] = n
    return counts


def current_revision(connection: Connection) -> str | None:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = current_app.extensions["migrate"].migrate.get_config()
    return str(ScriptDirectory.from_config(config).get_current_head())


# ---------------------------------------------------------------- native copies


def _sqlite_copy(url: str, target: Path) -> None:
    """SQLite's online backup API: a consistent copy while the app keeps running."""
    source_path = make_url(url).database
    if not source_path or source_path == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    source = sqlite3.connect(source_path)
    try:
        copy = sqlite3.connect(target)
        with copy:
            source.backup(copy)
        copy.close()
    finally:
        source.close()


def _native_dump(url: str, target: Path) -> str | None:
    """pg_dump / mysqldump output when the tool exists; None (with the reason in the
    manifest) when it does not or fails — the portable dump is what restore uses."""
    u = make_url(url)
    env = dict(os.environ)
    if u.get_backend_name() == "postgresql":
        tool = shutil.which("pg_dump")
        if not tool:
            return None
        args = [tool, "--format=custom", "--no-owner", f"--file={target}"]
        options = str(u.query.get("options", ""))
        if "search_path=" in options:
            args.append("--schema=" + options.split("search_path=", 1)[1].split()[0])
        args += ["--host", u.host or "127.0.0.1", "--port", str(u.port or 5432)]
        args += ["--username", u.username or "postgres", u.database or "postgres"]
        if u.password:
            env["PGPASSWORD"] = u.password
    elif u.get_backend_name() in ("mysql", "mariadb"):
        tool = shutil.which("mariadb-dump") or shutil.which("mysqldump")
        if not tool:
            return None
        args = [tool, "--single-transaction", "--routines", "--triggers", f"--result-file={target}"]
        args += ["--host", u.host or "127.0.0.1", "--port", str(u.port or 3306)]
        args += ["--user", u.username or "root", str(u.database)]
        if u.password:
            env["MYSQL_PWD"] = u.password
    else:
        return None
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=3600, check=False)
    if done.returncode != 0:
        target.unlink(missing_ok=True)
        raise BackupError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed")
    return Path(tool).name


# ---------------------------------------------------------------- backup


def public_settings() -> dict[str, Any]:
    """The configuration worth restoring by hand; never a secret or a password."""
    cfg = current_app.config
    out: dict[str, Any] = {k: cfg.get(k) for k in SETTINGS if k in cfg}
    out["DATABASE_URL"] = make_url(cfg["SQLALCHEMY_DATABASE_URI"]).render_as_string(
        hide_password=True
    )
    return out


def create_backup(to_dir: Path, echo: Callable[[str], None] = lambda s: None) -> Path:
    """Write helpdesk-backup-<UTC time>.tar.gz into `to_dir` and return its path."""
    url = str(current_app.config["SQLALCHEMY_DATABASE_URI"])
    dialect = make_url(url).get_backend_name()
    stamp = utcnow().strftime("%Y%m%d-%H%M%S")
    to_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=to_dir, prefix=".backup-") as tmp:
        work = Path(tmp)
        (work / "database").mkdir()
        manifest: dict[str, Any] = {"format": FORMAT, "created_at": stamp, "dialect": dialect}
        if dialect == "sqlite":
            echo("Copying the SQLite database (online backup)…")
            _sqlite_copy(url, work / "database" / "helpdesk.sqlite3")
            manifest["native"] = "sqlite-backup-api"
            engine = create_engine(
                "sqlite:///" + (work / "database" / "helpdesk.sqlite3").as_posix()
            )
        else:
            engine = db.engine
            try:
                echo("Dumping the database with its own tool…")
                ext = "pgdump" if dialect == "postgresql" else "sql"
                manifest["native"] = _native_dump(url, work / "database" / f"native.{ext}")
            except (BackupError, OSError, subprocess.SubprocessError) as exc:
                manifest["native"] = None
                manifest["native_error"] = str(exc)[:300]
        echo("Writing the portable dump…")
        (work / "database" / "tables").mkdir()
        with _snapshot(engine) as conn:
            manifest["revision"] = current_revision(conn)
            manifest["tables"] = _dump_tables(conn, work / "database" / "tables")
        if engine is not db.engine:
            engine.dispose()
        manifest["skipped_tables"] = sorted(SKIPPED_TABLES)
        upload_dir = Path(current_app.config["UPLOAD_DIR"])
        echo(f"Copying the uploads from {upload_dir}…")
        if upload_dir.is_dir():
            shutil.copytree(upload_dir, work / "uploads", symlinks=False)
        else:
            (work / "uploads").mkdir()
        (work / "settings.json").write_text(
            json.dumps(public_settings(), indent=2, sort_keys=True), encoding="utf-8"
        )
        manifest["files"] = {
            p.relative_to(work).as_posix(): sha256_file(p)
            for p in sorted(work.rglob("*"))
            if p.is_file()
        }
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        archive = to_dir / f"helpdesk-backup-{stamp}.tar.gz"
        partial = archive.with_suffix(".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for p in sorted(work.iterdir()):
                tar.add(p, arcname=p.name)
        partial.replace(archive)  # complete or absent, never half-written
    with contextlib.suppress(OSError):
        archive.chmod(0o600)  # it holds password hashes and personal data
    return archive


@contextlib.contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One consistent read of every table while writers go on."""
    dialect = engine.dialect.name
    options = {"isolation_level": "REPEATABLE READ"} if dialect != "sqlite" else {}
    with engine.connect().execution_options(**options) as conn:
        if dialect in ("mysql", "mariadb"):
            conn.exec_driver_sql("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        with conn.begin() if not conn.in_transaction() else contextlib.nullcontext():
            yield conn


# ---------------------------------------------------------------- restore


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    members = []
    for member in tar.getmembers():
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise BackupError(f"The archive holds an unsafe entry ({member.name}); not restoring.")
        members.append(member)
    return members


def read_archive(archive: Path, into: Path) -> dict[str, Any]:
    """Unpack and check every file against the manifest before anything is changed."""
    if not archive.is_file():
        raise BackupError(f"No backup at {archive}.")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = _safe_members(tar)
            if hasattr(tarfile, "data_filter"):  # refuses links and odd modes as well
                tar.extractall(into, members=members, filter="data")
            else:  # pragma: no cover - Python without extraction filters
                tar.extractall(into, members=members)  # noqa: S202 (members checked)
        manifest = json.loads((into / "manifest.json").read_text(encoding="utf-8"))
    except (tarfile.TarError, OSError, ValueError, EOFError) as exc:
        raise BackupError(f"{archive} is not a readable Helpdesk backup ({exc}).") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    for name, expected in manifest["files"].items():
        path = into / name
        if not path.is_file() or sha256_file(path) != expected:
            raise BackupError(f"{name} in the backup is missing or damaged; not restoring.")
    return dict(manifest)


def _has_data(connection: Connection) -> bool:
    names = set(inspect(connection).get_table_names())
    return any(
        connection.scalar(select(func.count()).select_from(t))
        for t in backed_up_tables()
        if t.name in names
    )


def _load_table(connection: Connection, table: Any, path: Path) -> int:
    n = 0
    batch: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            batch.append({k: _decode(v) for k, v in json.loads(line).items()})
            if len(batch) >= BATCH:
                connection.execute(table.insert(), batch)
                n, batch = n + len(batch), []
    if batch:
        connection.execute(table.insert(), batch)
        n += len(batch)
    return n


def _reset_sequences(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    for table in backed_up_tables():
        pk = list(table.primary_key.columns)
        if len(pk) == 1 and pk[0].autoincrement is not False and pk[0].type.python_type is int:
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"(SELECT COALESCE(MAX({pk[0].name}), 0) + 1 FROM {table.name}), false)"
                )
            )


def restore_backup(
    archive: Path, *, force: bool = False, echo: Callable[[str], None] = lambda s: None
) -> dict[str, int]:
    """Load `archive` into this app's database (migrated to the backup's schema) and
    upload folder. Refuses a database or folder that holds data unless `force`, which
    empties them first. Returns the row count per table loaded."""
    from flask_migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="helpdesk-restore-") as tmp:
        work = Path(tmp)
        echo(f"Checking {archive}…")
        manifest = read_archive(archive, work)
        head = head_revision()
        if manifest["revision"] != head:
            raise BackupError(
                f"The backup is at schema {manifest['revision']}, this Helpdesk at {head}: "
                "restore it with the version that made it, then upgrade (`helpdesk init-db`)."
            )
        upload_dir = Path(current_app.config["UPLOAD_DIR"])
        with db.engine.connect() as conn:
            occupied = _has_data(conn)
        files_there = upload_dir.is_dir() and any(upload_dir.iterdir())
        if (occupied or files_there) and not force:
            raise BackupError(
                "The database or the upload folder already holds data; restore into an "
                "empty one, or add --force to replace what is there."
            )
        echo("Migrating the database…")
        upgrade()
        counts: dict[str, int] = {}
        with db.engine.begin() as conn:
            tables = backed_up_tables()
            # Also on an empty database: the migrations insert defaults of their own
            # (the 24×7 policy), which the backup holds as they were.
            for table in reversed(tables):
                conn.execute(table.delete())
            # The counter tables last, as dumped: inserting the tickets fired the
            # triggers that maintain them, so they are emptied and loaded again.
            later = [t for t in tables if t.name in DERIVED_TABLES]
            for table in [t for t in tables if t.name not in DERIVED_TABLES] + later:
                if table in later:
                    conn.execute(table.delete())
                counts[table.name] = _load_table(
                    conn, table, work / "database" / "tables" / f"{table.name}.jsonl"
                )
            _reset_sequences(conn)
        echo(f"Restoring the uploads into {upload_dir}…")
        if upload_dir.is_dir() and force:
            shutil.rmtree(upload_dir)
        upload_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(work / "uploads", upload_dir, dirs_exist_ok=True)
    return counts


def upload_checksums(upload_dir: Path) -> dict[str, str]:
    return {
        p.relative_to(upload_dir).as_posix(): sha256_file(p)
        for p in sorted(upload_dir.rglob("*"))
        if p.is_file()
    }
