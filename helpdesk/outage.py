"""Which database errors mean "the database is not available right now".

Those are answered 503 with Retry-After and a page that needs no database, instead of
a 500: the request was fine, the server will be again in a moment. Everything else (a
bug, a constraint) stays a 500.
"""

from __future__ import annotations

from sqlalchemy import exc as sa

# SQLite: the file cannot be written or opened, or another writer held it too long.
_SQLITE_UNAVAILABLE = (
    "database or disk is full",
    "disk i/o error",
    "unable to open database",
    "attempt to write a readonly database",
    "database is locked",
)
# MySQL/MariaDB client and server codes: cannot connect, gone away, lost, too many
# connections, shutting down, lock wait timeout, deadlock (after the retries), disk full.
_MYSQL_UNAVAILABLE = {1021, 1040, 1053, 1205, 1213, 1290, 2002, 2003, 2006, 2013, 2055}
# PostgreSQL SQLSTATE classes: connection (08), resources (53: disk full, memory,
# connections), operator intervention (57: shutdown), plus serialization / deadlock.
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57")
_PG_UNAVAILABLE_STATES = {"40001", "40P01"}


def database_unavailable(error: BaseException) -> bool:
    if isinstance(error, sa.PendingRollbackError | sa.DisconnectionError | sa.TimeoutError):
        return True
    if not isinstance(error, sa.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    orig = error.orig
    module = type(orig).__module__
    if module.startswith("sqlite3"):
        message = str(orig).lower()
        return any(text in message for text in _SQLITE_UNAVAILABLE)
    if module.startswith("pymysql"):
        code = orig.args[0] if orig is not None and orig.args else None
        return code in _MYSQL_UNAVAILABLE
    state = getattr(orig, "sqlstate", None) or ""
    if state:
        return state in _PG_UNAVAILABLE_STATES or state[:2] in _PG_UNAVAILABLE_CLASSES
    return isinstance(error, sa.OperationalError | sa.InterfaceError) and (
        module.startswith("psycopg")
    )


def storage_full(error: BaseException) -> bool:
    """The database could not write for lack of space (SQLite, MariaDB, PostgreSQL)."""
    if not isinstance(error, sa.DBAPIError):
        return False
    orig = error.orig
    text = str(orig).lower()
    code = orig.args[0] if orig is not None and getattr(orig, "args", None) else None
    return (
        "database or disk is full" in text
        or code == 1021
        or getattr(orig, "sqlstate", None) == "53100"
    )
