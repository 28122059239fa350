"""Reports page and exports. Thin: parse filters, call services, stream (the boundary commits
the audit row before the first byte leaves)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import force_locale
from flask_login import login_required
from werkzeug.wsgi import wrap_file

from helpdesk.errors import Conflict, InvalidInput
from helpdesk.extensions import db
from helpdesk.i18n import in_locale, person_locale
from helpdesk.reports import jobs, services
from helpdesk.reports import permissions as perm
from helpdesk.reports.exports import pdf as pdf_export
from helpdesk.reports.exports import xlsx as xlsx_export
from helpdesk.reports.forms import DateRangeForm
from helpdesk.tickets import services as tickets
from helpdesk.users.models import User
from helpdesk.users.services import technicians
from helpdesk.web import current_actor as _actor
from helpdesk.web import flash_error

bp = Blueprint("reports", __name__, url_prefix="/reports")

MIMETYPES = {
    "csv": "text/csv",  # Response adds "; charset=utf-8" to text/* types
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _download_headers(fmt: str, filename: str | None = None) -> dict[str, str]:
    return {
        "Content-Disposition": (
            f'attachment; filename="{filename or services.export_filename(fmt)}"'
        ),
        # The file is personal data: no shared cache may keep it.
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }


@bp.route("")
@login_required
def index():
    actor = _actor()
    if not perm.can_view_reports(actor):
        abort(403)
    args = services.with_default_period(request.args)
    form = DateRangeForm(args)
    form.validate()
    filters = tickets.parse_filters(args)
    summary = services.report_summary(actor, filters)
    export_jobs = jobs.recent_jobs(actor)  # may mark a stale job failed (committed)
    return render_template(
        "reports/index.html",
        form=form,
        filters=filters,
        summary=summary,
        applied=services.describe_filters(actor, filters),
        export_args=services.filters_args(filters),
        pdf_limit=pdf_export.PDF_ROW_LIMIT,
        xlsx_slow_rows=xlsx_export.XLSX_SLOW_ROWS,
        xlsx_max_rows=jobs.XLSX_MAX_ROWS,
        categories=tickets.list_categories(active_only=False),
        staff=technicians() if actor.is_admin else [],
        humanise=services.humanise_seconds,
        export_jobs=export_jobs,
        job_status_labels=jobs.STATUS_LABELS,
    )


def _start_export(fmt: str):
    actor = _actor()
    if not perm.can_export(actor):
        abort(403)
    filters = tickets.parse_filters(request.args)
    return actor, filters


def _streamed(actor: User, fmt: str, filters, produce) -> Iterator[Any]:
    """Audit the export, then the body that `produce(actor, filters)` yields.

    The body is produced after the view has returned, once the boundary has
    committed the audit row (so the export is audited before its first byte leaves).
    By then the request's objects are expired and, outside tests, their session is
    gone: the body attaches the actor (who is also `current_user`) to the session of
    the context stream_with_context pushes. The language is the person's, read now.
    """
    services.record_export(actor, fmt, filters, ip=request.remote_addr)
    locale = person_locale(actor)

    def body() -> Iterator[Any]:
        if actor not in db.session:
            db.session.add(actor)
        yield from in_locale(locale, produce(actor, filters))

    return stream_with_context(body())


def _csv_bytes(actor: User, filters) -> Iterator[bytes]:
    return (chunk.encode("utf-8") for chunk in services.iter_csv(actor, filters))


@bp.route("/export.csv")
@login_required
def export_csv():
    actor, filters = _start_export("csv")
    services.check_export(actor, filters)
    body = _streamed(actor, "csv", filters, _csv_bytes)
    return Response(body, mimetype=MIMETYPES["csv"], headers=_download_headers("csv"))


@bp.route("/export.xlsx")
@login_required
def export_xlsx():
    actor, filters = _start_export("xlsx")
    try:
        services.check_direct_xlsx_size(actor, filters)
    except InvalidInput as exc:
        flash_error(exc, "warning")
        return redirect(url_for("reports.index", **services.filters_args(filters)), 303)
    services.check_export(actor, filters)
    body = _streamed(actor, "xlsx", filters, services.iter_xlsx)
    return Response(body, mimetype=MIMETYPES["xlsx"], headers=_download_headers("xlsx"))


@bp.route("/export.pdf")
@login_required
def export_pdf():
    actor, filters = _start_export("pdf")
    try:
        rows = services.check_pdf_size(actor, filters)
    except InvalidInput as exc:
        flash_error(exc, "warning")
        return redirect(url_for("reports.index", **services.filters_args(filters)), 303)
    with force_locale(person_locale(actor)):
        data = services.build_pdf(actor, filters)
    services.record_export(actor, "pdf", filters, ip=request.remote_addr, rows=rows)
    return Response(data, mimetype=MIMETYPES["pdf"], headers=_download_headers("pdf"))


# ---------------------------------------------------------------- Excel export jobs


@bp.route("/export.xlsx/jobs", methods=["POST"])
@login_required
def xlsx_job_start():
    """Start building the Excel file in a runner process; the job page shows progress."""
    filters = tickets.parse_filters(request.form)
    try:
        job = jobs.start_xlsx_job(
            _actor(), filters, locale=person_locale(_actor()), ip=request.remote_addr
        )
    except Conflict as exc:  # too many under way: say so on the page the form came from
        flash_error(exc, "warning")
        return redirect(url_for("reports.index", **services.filters_args(filters)), 303)
    # The boundary commits the job and its audit row; the runner starts after the commit.
    return redirect(url_for("reports.job_page", job_id=job.id), 303)


@bp.route("/jobs/<job_id>")
@login_required
def job_page(job_id: str):
    actor = _actor()
    job = jobs.get_job(actor, job_id)
    state = jobs.job_state(job)
    filters = jobs.job_filters(job)  # job_state may have marked a stale job failed
    return render_template(
        "reports/job.html",
        job=job,
        state=state,
        applied=services.describe_filters(actor, filters),
        export_args=services.filters_args(filters),
    )


@bp.route("/jobs/<job_id>.json")
@login_required
def job_status(job_id: str):
    job = jobs.get_job(_actor(), job_id)
    state = jobs.job_state(job)
    state["download_url"] = (
        url_for("reports.job_download", job_id=job.id) if state["status"] == "done" else None
    )
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/jobs/<job_id>/download")
@login_required
def job_download(job_id: str):
    job, fh = jobs.open_job_file(_actor(), job_id)
    headers = _download_headers("xlsx", job.file_name)
    headers["Content-Length"] = str(os.fstat(fh.fileno()).st_size)
    # wrap_file: the server's file_wrapper (sendfile under gunicorn) when it has one.
    return Response(
        wrap_file(request.environ, fh),
        mimetype=MIMETYPES["xlsx"],
        headers=headers,
        direct_passthrough=True,
    )
