"""Moved: dashboard figures, summaries and exports now live in their own modules.

helpdesk.reports.dashboard (figures), .summary (summaries and filter text),
.common (shared pieces) and .exports.{rows,csv,xlsx,pdf}. These names stay
importable from here until every caller imports from the new place.
"""

from __future__ import annotations

from helpdesk.reports.common import (  # noqa: F401
    OPEN_STATUSES,
    avg_seconds,
    enum_value,
    humanise_seconds,
    user_label,
    where_clause,
)
from helpdesk.reports.dashboard import (  # noqa: F401
    DEFAULT_TREND_DAYS,
    OVERDUE_DAYS,
    TREND_DAYS,
    average_times,
    category_counts,
    created_vs_resolved,
    dashboard_data,
    overdue_count,
    priority_counts,
    resolved_today,
    status_counts,
    technician_workload,
    window,
)
from helpdesk.reports.exports.csv import (  # noqa: F401
    iter_csv,
)
from helpdesk.reports.exports.pdf import (  # noqa: F401
    DEBIAN_FONT_DIR,
    EMOJI_FONT,
    FONT_DIR,
    PDF_COLUMNS,
    PDF_ROW_LIMIT,
    PDF_WIDTHS,
    ROW_HEIGHT,
    build_pdf,
    check_pdf_size,
    pdf_row_count,
)
from helpdesk.reports.exports.rows import (  # noqa: F401
    EXPORT_BATCH,
    EXPORT_COLUMNS,
    FORMULA_PREFIXES,
    Column,
    check_export,
    export_filename,
    export_query,
    iter_export_rows,
    iter_file,
    neutralise,
    record_export,
)
from helpdesk.reports.exports.xlsx import (  # noqa: F401
    XLSX_SLOW_ROWS,
    check_direct_xlsx_size,
    iter_xlsx,
    write_xlsx,
)
from helpdesk.reports.summary import (  # noqa: F401
    SummaryRow,
    describe_filters,
    filters_args,
    report_summary,
    summary_by_category,
    summary_by_priority,
    summary_by_status,
    summary_by_technician,
    with_default_period,
)
