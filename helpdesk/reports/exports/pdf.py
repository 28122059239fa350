"""PDF export (fpdf2): a titled report with a summary and the ticket table."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask_babel import format_datetime
from flask_babel import gettext as _

from helpdesk.db import utcnow
from helpdesk.errors import InvalidInput
from helpdesk.reports.common import humanise_seconds
from helpdesk.reports.exports.rows import EXPORT_COLUMNS, iter_export_rows
from helpdesk.reports.summary import describe_filters, report_summary
from helpdesk.tickets import queries as tickets
from helpdesk.tickets.queries import TicketFilters
from helpdesk.users.models import User

PDF_ROW_LIMIT = 5000
FONT_DIR = Path(__file__).resolve().parents[2] / "data"
DEBIAN_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
# Emoji in titles: DejaVu has none.  Debian's Noto Color Emoji (package
# fonts-noto-color-emoji, 11 MB, so not shipped) is used as a fallback font when
# installed; without it a PDF leaves emoji out and everything else is intact.
EMOJI_FONT = Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf")


def _font_paths() -> tuple[Path, Path] | None:
    """DejaVu Sans Condensed: shipped with the app; Debian's copy as a second choice."""
    for folder in (FONT_DIR, DEBIAN_FONT_DIR):
        regular = folder / "DejaVuSansCondensed.ttf"
        bold = folder / "DejaVuSansCondensed-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def pdf_row_count(actor: User, filters: TicketFilters) -> int:
    return tickets.count_tickets(actor, filters)


def check_pdf_size(actor: User, filters: TicketFilters) -> int:
    count = pdf_row_count(actor, filters)
    if count > PDF_ROW_LIMIT:
        raise InvalidInput(
            "This report has %(count)s tickets; PDF is limited to %(limit)s. "
            "Narrow the filters or export to CSV or Excel, which have no limit.",
            count=f"{count:,}",
            limit=f"{PDF_ROW_LIMIT:,}",
            field="format",
        )
    return count


PDF_COLUMNS = ("number", "title", "status", "priority", "category", "assignee", "created_at")
PDF_WIDTHS = (30, 88, 24, 20, 40, 40, 28)  # mm on landscape A4 (277 mm usable)
ROW_HEIGHT = 5.0  # mm


def build_pdf(actor: User, filters: TicketFilters, now: datetime | None = None) -> bytes:
    """A titled report: filters, generation time, summary table, ticket table.

    Page numbers in the footer and the ticket table's header repeated on every
    page. Text comes out in the reader's locale (Flask-Babel's gettext).
    """
    from fpdf import FPDF, FontFace

    check_pdf_size(actor, filters)
    now = now or utcnow()
    fonts = _font_paths()
    page_label = _("Page")

    class Report(FPDF):
        # Rows are drawn with cell() (one line, cut to the column) rather than
        # fpdf2's table(): table() wraps every cell and is ~20x slower at 5,000 rows.
        table_header: list[str] | None = None

        def header(self) -> None:
            if self.table_header and self.page_no() > 1:
                self.draw_table_header()

        def draw_table_header(self) -> None:
            assert self.table_header is not None
            style = (self.font_family, self.font_style, self.font_size_pt)
            self.set_font(family, "B", 7.5)
            self.set_fill_color(221, 227, 234)
            for label, width in zip(self.table_header, PDF_WIDTHS, strict=True):
                self.cell(width, ROW_HEIGHT + 1, self.fit(label, width), border=1, fill=True)
            self.ln(ROW_HEIGHT + 1)
            self.set_font(style[0], style[1], style[2])
            self.set_fill_color(245, 247, 250)

        def fit(self, value: str, width: float) -> str:
            """Cut `value` with an ellipsis so it fits one line of the column."""
            room = width - 2 * self.c_margin
            if self.get_string_width(value) <= room:
                return value
            while value and self.get_string_width(value + "…") > room:
                value = value[: max(1, int(len(value) * 0.9))] if len(value) > 12 else value[:-1]
            return value + "…"

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 8)
            self.cell(0, 8, f"{page_label} {self.page_no()} / {{nb}}", align="C")

    pdf = Report(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    if fonts:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
        family = "DejaVu"
        if EMOJI_FONT.is_file():
            pdf.add_font("Emoji", "", str(EMOJI_FONT))
            pdf.set_fallback_fonts(["Emoji"], exact_match=False)  # bold text too

        def text(value: Any) -> str:
            return "" if value is None else str(value)
    else:  # no Unicode font anywhere: core font, Latin-1 only
        family = "Helvetica"

        def text(value: Any) -> str:
            return (
                "" if value is None else str(value).encode("latin-1", "replace").decode("latin-1")
            )

    title = _("Tickets report")
    pdf.set_title(title)
    pdf.set_creator("Helpdesk")
    pdf.add_page()
    pdf.set_font(family, "B", 16)
    pdf.cell(0, 10, text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    generated = format_datetime(now.replace(tzinfo=timezone.utc), "long")
    pdf.cell(
        0, 6, text(_("Generated %(when)s by %(who)s", when=generated, who=actor.display_name)),
        new_x="LMARGIN", new_y="NEXT",
    )  # fmt: skip
    applied = describe_filters(actor, filters)
    filters_text = (
        "; ".join(f"{label}: {value}" for label, value in applied) if applied else _("none")
    )
    pdf.multi_cell(
        0, 6, text(_("Filters: %(filters)s", filters=filters_text)), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.ln(3)

    heading = FontFace(emphasis="BOLD", fill_color=(221, 227, 234))
    summary = report_summary(actor, filters)
    pdf.set_font(family, "B", 11)
    pdf.cell(
        0, 8, text(_("Summary: %(n)s tickets", n=summary["total"])), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font(family, "", 8)
    with pdf.table(
        col_widths=(60, 20, 20, 40, 40),
        width=180,
        align="LEFT",
        headings_style=heading,
        line_height=5,
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
    ) as table:
        table.row(
            [
                text(_("Category")),
                text(_("Tickets")),
                text(_("Open")),
                text(_("Avg. first response")),
                text(_("Avg. resolution")),
            ]
        )
        for item in summary["category"]:
            table.row(
                [
                    text(item.label),
                    str(item.count),
                    str(item.open),
                    text(humanise_seconds(item.avg_first_response)),
                    text(humanise_seconds(item.avg_resolution)),
                ]
            )
    pdf.ln(4)

    pdf.set_font(family, "B", 11)
    pdf.cell(0, 8, text(_("Tickets")), new_x="LMARGIN", new_y="NEXT")
    labels = {c.key: str(c.label) for c in EXPORT_COLUMNS}
    labels["created_at"] = _("Created")
    pdf.table_header = [text(labels[k]) for k in PDF_COLUMNS]
    pdf.draw_table_header()
    pdf.set_font(family, "", 7.5)
    pdf.set_fill_color(245, 247, 250)
    for n, row in enumerate(iter_export_rows(actor, filters)):
        for key, width in zip(PDF_COLUMNS, PDF_WIDTHS, strict=True):
            value = row[key]
            if isinstance(value, datetime):
                value = value.strftime("%Y-%m-%d %H:%M")
            pdf.cell(width, ROW_HEIGHT, pdf.fit(text(value), width), border="B", fill=n % 2 == 1)
        pdf.ln(ROW_HEIGHT)
    return bytes(pdf.output())
