"""Full-text ticket search with each database's own engine, behind `match_clause(q)`.

- SQLite: an FTS5 external-content table `tickets_fts` (title, description),
  kept in sync by triggers; `unicode61 remove_diacritics 2` so "telefono"
  finds "Teléfono".
- MySQL / MariaDB: an InnoDB FULLTEXT index on (title, description), queried
  in boolean mode (InnoDB maintains it itself).
- PostgreSQL: a stored generated `tsvector` column with the `simple`
  configuration (no stemming: Spanish and English both work) and a GIN index.

Every word must match (AND); a word ending in `*` is a prefix ("impres*").
A query that looks like a ticket number (`TKT-2026-000123`) is an exact match
on the number instead, through its unique index.

The objects are created by migration 0002 and, for `db.create_all()` (tests),
by the metadata `after_create` hook in `install_all`.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    column,
    false,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute

from helpdesk.extensions import db
from helpdesk.tickets.models import Ticket

NUMBER_RE = re.compile(r"^\s*TKT-\d{4}-\d{1,9}\s*$", re.IGNORECASE)
TERM_RE = re.compile(r"(\w+)(\*?)", re.UNICODE)
MAX_TERMS = 8
MYSQL_MIN_TOKEN = 3  # innodb_ft_min_token_size: shorter words are not in the index

# Names that live in the database but not in the models (skipped by verify-schema
# and autogenerate).
SQLITE_FTS = "tickets_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_tickets_search_vector"
MYSQL_INDEX = "ft_tickets_title_description"
EXTRA_NAMES = {SQLITE_FTS, PG_COLUMN, PG_INDEX, MYSQL_INDEX}

# PostgreSQL's unaccent() may not be used in a generated column (not immutable);
# translate() is, and covers Spanish, Catalan, French and Portuguese letters.
_ACCENTED = "áàâäãéèêëíìîïóòôöõúùûüñçÁÀÂÄÃÉÈÊËÍÌÎÏÓÒÔÖÕÚÙÛÜÑÇ"
_PLAIN = "aaaaaeeeeiiiiooooouuuuncAAAAAEEEEIIIIOOOOOUUUUNC"

_SQLITE = [
    f"""
    CREATE VIRTUAL TABLE IF NOT EXISTS {SQLITE_FTS} USING fts5(
      title, description, content='tickets', content_rowid='id',
      tokenize='unicode61 remove_diacritics 2'
    )
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS tickets_fts_ai AFTER INSERT ON tickets BEGIN
      INSERT INTO {SQLITE_FTS} (rowid, title, description)
      VALUES (NEW.id, NEW.title, NEW.description);
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS tickets_fts_ad AFTER DELETE ON tickets BEGIN
      INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}, rowid, title, description)
      VALUES ('delete', OLD.id, OLD.title, OLD.description);
    END
    """,
    f"""
    CREATE TRIGGER IF NOT EXISTS tickets_fts_au AFTER UPDATE OF title, description ON tickets
    BEGIN
      INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}, rowid, title, description)
      VALUES ('delete', OLD.id, OLD.title, OLD.description);
      INSERT INTO {SQLITE_FTS} (rowid, title, description)
      VALUES (NEW.id, NEW.title, NEW.description);
    END
    """,
    # Index rows that existed before (a migrated database); cheap when empty.
    f"INSERT INTO {SQLITE_FTS} ({SQLITE_FTS}) VALUES ('rebuild')",
]
_POSTGRESQL = [
    f"""
    ALTER TABLE tickets ADD COLUMN IF NOT EXISTS {PG_COLUMN} tsvector
    GENERATED ALWAYS AS (
      to_tsvector('simple'::regconfig, translate(
        coalesce(title, '') || ' ' || coalesce(description, ''), '{_ACCENTED}', '{_PLAIN}'
      ))
    ) STORED
    """,
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON tickets USING gin ({PG_COLUMN})",
]
_MYSQL = [f"CREATE FULLTEXT INDEX {MYSQL_INDEX} ON tickets (title, description)"]
DDL = {"sqlite": _SQLITE, "postgresql": _POSTGRESQL, "mysql": _MYSQL, "mariadb": _MYSQL}


def install(connection: Any) -> None:
    """Create the dialect's full-text objects and index the existing tickets (idempotent)."""
    name = connection.dialect.name
    if (
        name in ("mysql", "mariadb")
        and connection.exec_driver_sql(
            "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() "
            f"AND table_name = 'tickets' AND index_name = '{MYSQL_INDEX}'"
        ).scalar()
    ):
        return
    for statement in DDL[name]:
        connection.exec_driver_sql(statement)


def uninstall(connection: Any) -> None:
    name = connection.dialect.name
    if name == "sqlite":
        for trigger in ("tickets_fts_ai", "tickets_fts_ad", "tickets_fts_au"):
            connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {SQLITE_FTS}")
    elif name == "postgresql":
        connection.exec_driver_sql(f"DROP INDEX IF EXISTS {PG_INDEX}")
        connection.exec_driver_sql(f"ALTER TABLE tickets DROP COLUMN IF EXISTS {PG_COLUMN}")
    else:
        connection.exec_driver_sql(f"DROP INDEX {MYSQL_INDEX} ON tickets")


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic filter: the full-text objects are managed here, not by the models."""
    if name is None:
        return True
    if type_ == "table" and (name == SQLITE_FTS or name.startswith(SQLITE_FTS + "_")):
        return False
    return name not in EXTRA_NAMES


def _words(q: str, dialect: str) -> list[tuple[str, bool]]:
    """(word, is_prefix) pairs; `impres*` asks for a prefix, plain words match whole.

    Whole words keep a search as cheap at a million tickets as at ten thousand:
    the engines read a word's postings lazily in id order, but must merge every
    posting of every word a prefix covers.
    """
    words = [(m.group(1), bool(m.group(2))) for m in TERM_RE.finditer(q or "")][:MAX_TERMS]
    if dialect in ("mysql", "mariadb"):
        words = [(w, p) for w, p in words if len(w) >= MYSQL_MIN_TOKEN]
    return words


def is_number(q: str) -> bool:
    return bool(NUMBER_RE.match(q or ""))


def _uses_fts_join(q: str, narrow: bool) -> bool:
    return db.engine.dialect.name == "sqlite" and not narrow and not is_number(q)


_FTS = table(SQLITE_FTS, column("rowid"))


def search_tickets(query: Select[Any], q: str, *, narrow: bool = False) -> Select[Any]:
    """Restrict a tickets query to the tickets matching `q` (the one search entry point).

    `narrow` says the query already selects few tickets (a user's own): then
    each of those is checked against the index, instead of walking the matches.
    On SQLite the wide case joins the FTS table so that pages walk its rowids
    newest-first and stop after one page (see `id_column`).
    """
    if not _uses_fts_join(q, narrow):
        return query.where(match_clause(q, correlated=narrow))
    words = _words(q, "sqlite")
    query = query.join(_FTS, _FTS.c.rowid == Ticket.id)  # also when empty: see id_column
    if not words:
        return query.where(false())
    return query.where(text(f"{SQLITE_FTS} MATCH :fts_q").bindparams(fts_q=_fts5_query(words)))


def id_column(q: str, *, narrow: bool = False) -> ColumnElement[Any] | InstrumentedAttribute[int]:
    """The id to sort and page by: the FTS rowid (same value) when `search_tickets` joined it,
    so SQLite reads the matches in id order instead of sorting all of them."""
    if q and _uses_fts_join(q, narrow):
        return _FTS.c.rowid
    return Ticket.id


def _fts5_query(words: list[tuple[str, bool]]) -> str:
    # Each word quoted, so nothing the user types is FTS syntax.
    return " ".join(f'"{w}"' + ("*" if prefix else "") for w, prefix in words)


def match_clause(q: str, *, correlated: bool = False) -> ColumnElement[bool] | TextClause:
    """The WHERE clause for a free-text query `q` on tickets (title and description)."""
    if is_number(q):
        return Ticket.number == q.strip().upper()
    dialect = db.engine.dialect.name
    words = _words(q, dialect)
    if not words:
        return false()
    if dialect == "sqlite":
        if correlated:  # one index probe per candidate row
            return text(
                f"tickets.id IN (SELECT rowid FROM {SQLITE_FTS} "
                f"WHERE {SQLITE_FTS} MATCH :fts_q AND rowid = tickets.id)"
            ).bindparams(fts_q=_fts5_query(words))
        matching: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(text(SQLITE_FTS))
            .where(text(f"{SQLITE_FTS} MATCH :fts_q").bindparams(fts_q=_fts5_query(words)))
        )
        return Ticket.id.in_(matching)
    if dialect == "postgresql":
        plain = str.maketrans(_ACCENTED, _PLAIN)
        ts_query = " & ".join(w.translate(plain) + (":*" if p else "") for w, p in words)
        return literal_column(f"tickets.{PG_COLUMN}").op("@@")(
            text("to_tsquery('simple', :ts_q)").bindparams(ts_q=ts_query)
        )
    boolean = " ".join(f"+{w}" + ("*" if p else "") for w, p in words)
    return text(
        "MATCH (tickets.title, tickets.description) AGAINST (:ft_q IN BOOLEAN MODE)"
    ).bindparams(ft_q=boolean)
