"""Hourly: finish uploads a crash left in staging and remove files no row owns."""

from __future__ import annotations

from flask import current_app

from helpdesk.attachments.sweep import check_storage
from helpdesk.jobs import crontab, periodic_task


@periodic_task(crontab(minute="41"))
def sweep_upload_storage() -> None:
    report = check_storage(fix=True, rows=False)
    if report.removed or report.published:
        current_app.logger.info(
            "Upload sweep: %d orphan files removed (%d bytes), %d staged uploads moved",
            len(report.removed),
            report.orphan_bytes,
            len(report.published),
        )
