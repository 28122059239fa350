"""Excel export (XlsxWriter, constant memory)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator

from flask_babel import gettext as _

from helpdesk.errors import InvalidInput
from helpdesk.reports.exports import rows  # by module: a test may change its EXPORT_BATCH
from helpdesk.tickets import queries as tickets
from helpdesk.tickets.queries import TicketFilters
from helpdesk.users.models import User

# Beyond this many rows Excel is built by a background job (reports.jobs): about a
# second of XlsxWriter's CPU here (~12,000 rows/s), which a gevent worker spends
# without serving anyone else.
XLSX_SLOW_ROWS = 10_000


def write_xlsx(
    actor: User,
    filters: TicketFilters,
    path: str,
    *,
    progress: Callable[[int], None] | None = None,
    tmpdir: str | None = None,
) -> int:
    """Write the export to `path` with XlsxWriter in constant_memory mode; returns rows.

    constant_memory flushes each row to a temporary file as soon as the next one
    starts, so memory stays flat whatever the row count; `close()` then packs that
    file into the zip (about a tenth of the time, with nothing to report). Strings
    go through write_string (never parsed as formulas) after `neutralise`.

    `progress(rows written)` is called every EXPORT_BATCH rows and once more when
    every row is written (only the packing is left then). Row data goes to a
    private folder under `tmpdir` (it is about as large as the sheet's XML), removed
    whatever happens: a failed export leaves no half-written file behind and does
    not spend time packing one.
    """
    import xlsxwriter

    with tempfile.TemporaryDirectory(
        prefix="helpdesk-xlsx-", dir=tmpdir, ignore_cleanup_errors=True
    ) as scratch:
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "tmpdir": scratch,
                "strings_to_formulas": False,
                "strings_to_urls": False,
            },
        )
        sheet = workbook.add_worksheet(_("Tickets")[:31])
        header = workbook.add_format({"bold": True, "bg_color": "#DDE3EA", "border": 1})
        date_fmt = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        number_fmt = workbook.add_format({"num_format": "0.00"})
        for i, column in enumerate(rows.EXPORT_COLUMNS):
            sheet.set_column(i, i, column.width)
        sheet.freeze_panes(1, 0)
        for i, column in enumerate(rows.EXPORT_COLUMNS):
            sheet.write_string(0, i, str(column.label), header)
        row_no = 0
        for row in rows.iter_export_rows(actor, filters):
            row_no += 1
            for i, column in enumerate(rows.EXPORT_COLUMNS):
                value = row[column.key]
                if value is None:
                    continue
                if column.kind == "datetime":
                    sheet.write_datetime(row_no, i, value, date_fmt)
                elif column.kind == "number":
                    sheet.write_number(row_no, i, value, number_fmt)
                else:
                    sheet.write_string(row_no, i, rows.neutralise(str(value)))
            if progress is not None and row_no % rows.EXPORT_BATCH == 0:
                progress(row_no)
        sheet.autofilter(0, 0, max(row_no, 1), len(rows.EXPORT_COLUMNS) - 1)
        if progress is not None:
            progress(row_no)
        workbook.close()
    return row_no


def iter_xlsx(actor: User, filters: TicketFilters) -> Iterator[bytes]:
    """Build the workbook in a temporary file, then stream it and delete it.

    The first (empty) chunk lets the server send the headers at once, so the
    browser shows the download as started while the workbook is being written.
    """
    fd, path = tempfile.mkstemp(prefix="helpdesk-export-", suffix=".xlsx")
    os.close(fd)
    try:
        yield b""
        write_xlsx(actor, filters, path)
    except BaseException:
        os.unlink(path)
        raise
    yield from rows.iter_file(path)


def check_direct_xlsx_size(actor: User, filters: TicketFilters) -> int:
    """The direct download builds the workbook inside the web worker: small ones only."""
    count = tickets.count_tickets(actor, filters)
    if count > XLSX_SLOW_ROWS:
        raise InvalidInput(
            "This report has %(count)s tickets; an Excel file that large is prepared "
            "in the background. Use the Excel button on this page to start it.",
            count=f"{count:,}",
            field="format",
        )
    return count
