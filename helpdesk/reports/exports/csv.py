"""CSV export, streamed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from helpdesk.reports.exports.rows import EXPORT_COLUMNS, Column, iter_export_rows, neutralise
from helpdesk.tickets.queries import TicketFilters
from helpdesk.users.models import User


def _csv_value(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.kind == "datetime":
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if column.kind == "number":
        return value
    return neutralise(str(value))


def iter_csv(actor: User, filters: TicketFilters, batch: int = 500) -> Iterator[str]:
    """CSV text in chunks of `batch` rows; starts with a BOM so Excel reads UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([str(c.label) for c in EXPORT_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in iter_export_rows(actor, filters):
        writer.writerow([_csv_value(c, row[c.key]) for c in EXPORT_COLUMNS])
        pending += 1
        if pending >= batch:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue()
