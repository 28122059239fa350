"""Admin pages for calendars, holidays and policies (admin only; the services check again)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from helpdesk.admin.views import admin_required
from helpdesk.audit.services import record
from helpdesk.errors import HelpdeskError
from helpdesk.jobs import enqueue_after_commit
from helpdesk.sla import services as sla
from helpdesk.sla.forms import WEEKDAY_LABELS, CalendarForm, HolidayForm, PolicyForm, PrefillForm
from helpdesk.sla.models import WEEKDAYS, Policy
from helpdesk.tickets import services as tickets
from helpdesk.tickets.forms import EmptyForm
from helpdesk.tickets.labels import PRIORITY_LABELS
from helpdesk.tickets.models import Priority
from helpdesk.web import current_actor as _actor
from helpdesk.web import form_error

bp = Blueprint("sla", __name__, url_prefix="/admin/sla")


@bp.route("/")
@admin_required
def index():
    return redirect(url_for("sla.policies"))


# ---------------------------------------------------------------- calendars


@bp.route("/calendars", methods=["GET", "POST"])
@admin_required
def calendars():
    form = CalendarForm()
    if form.validate_on_submit():
        try:
            cal = sla.create_calendar(
                _actor(), name=form.name.data, zone=form.zone.data, hours=form.hours()
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Calendar %(name)s created.", name=cal.name), "success")
            return redirect(url_for("sla.calendar_edit", calendar_id=cal.id))
    return render_template(
        "sla/calendars.html", calendars=sla.list_calendars(), form=form, weekdays=WEEKDAYS,
        weekday_labels=WEEKDAY_LABELS,
    ), (400 if form.errors else 200)  # fmt: skip


@bp.route("/calendars/<int:calendar_id>", methods=["GET", "POST"])
@admin_required
def calendar_edit(calendar_id: int):
    cal = sla.get_calendar(calendar_id)
    form = CalendarForm(obj=cal if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            sla.update_calendar(
                _actor(), cal.id, name=form.name.data, zone=form.zone.data, hours=form.hours()
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("sla.calendar_edit", calendar_id=cal.id))
    return _render_calendar(cal, form), (400 if form.errors else 200)


def _render_calendar(cal, form, holiday_form=None, prefill_form=None):
    prefill_form = prefill_form or PrefillForm(prefix="prefill", year=date.today().year)
    prefill_form.country.choices = [(c, c) for c in sla.HOLIDAY_COUNTRIES]
    return render_template(
        "sla/calendar_form.html",
        calendar=cal,
        form=form,
        holiday_form=holiday_form or HolidayForm(prefix="holiday"),
        prefill_form=prefill_form,
        action_form=EmptyForm(),
    )


@bp.route("/calendars/<int:calendar_id>/holidays", methods=["POST"])
@admin_required
def holiday_add(calendar_id: int):
    cal = sla.get_calendar(calendar_id)
    form = HolidayForm(prefix="holiday")
    if form.validate_on_submit():
        try:
            sla.add_holiday(
                _actor(), cal.id, day=form.day.data, name=form.name.data or "",
                yearly=form.yearly.data,
            )  # fmt: skip
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Holiday added."), "success")
            return redirect(url_for("sla.calendar_edit", calendar_id=cal.id))
    return _render_calendar(cal, CalendarForm(obj=cal), holiday_form=form), 400


@bp.route("/calendars/<int:calendar_id>/holidays/prefill", methods=["POST"])
@admin_required
def holiday_prefill(calendar_id: int):
    cal = sla.get_calendar(calendar_id)
    form = PrefillForm(prefix="prefill")
    form.country.choices = [(c, c) for c in sla.HOLIDAY_COUNTRIES]
    if form.validate_on_submit():
        try:
            added = sla.prefill_holidays(_actor(), cal.id, form.country.data, form.year.data)
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("%(n)s public holidays added.", n=added), "success")
            return redirect(url_for("sla.calendar_edit", calendar_id=cal.id))
    return _render_calendar(cal, CalendarForm(obj=cal), prefill_form=form), 400


@bp.route("/calendars/<int:calendar_id>/holidays/<int:holiday_id>/delete", methods=["POST"])
@admin_required
def holiday_delete(calendar_id: int, holiday_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    sla.remove_holiday(_actor(), calendar_id, holiday_id)
    flash(_("Holiday removed."), "success")
    return redirect(url_for("sla.calendar_edit", calendar_id=calendar_id))


# ---------------------------------------------------------------- policies


@bp.route("/policies")
@admin_required
def policies():
    return render_template(
        "sla/policies.html", policies=sla.list_policies(), action_form=EmptyForm(),
        priorities=list(Priority), priority_labels=PRIORITY_LABELS,
    )  # fmt: skip


def _policy_form(policy: Policy | None) -> PolicyForm:
    form = PolicyForm(obj=policy if request.method == "GET" else None)
    form.calendar_id.choices = [(c.id, c.name) for c in sla.list_calendars()]
    form.category_ids.choices = [(c.id, c.name) for c in tickets.list_categories()]
    if request.method == "GET" and policy is not None:
        form.category_ids.data = [c.id for c in policy.categories]
        for p in Priority:
            target = policy.target(p)
            getattr(form, f"{p.value}_first_response").data = (
                target.first_response_minutes if target else None
            )
            getattr(form, f"{p.value}_resolution").data = (
                target.resolution_minutes if target else None
            )
    return form


def _policy_fields(form: PolicyForm) -> dict[str, object]:
    return {
        "name": form.name.data,
        "calendar_id": form.calendar_id.data,
        "targets": {
            p: (
                getattr(form, f"{p.value}_first_response").data,
                getattr(form, f"{p.value}_resolution").data,
            )
            for p in Priority
        },
        "category_ids": form.category_ids.data or [],
        "pause_when_waiting": form.pause_when_waiting.data,
        "warn_percent": form.warn_percent.data,
        "notify_admins": form.notify_admins.data,
    }


@bp.route("/policies/new", methods=["GET", "POST"])
@admin_required
def policy_new():
    form = _policy_form(None)
    if form.validate_on_submit():
        try:
            policy = sla.create_policy(_actor(), **_policy_fields(form))
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Policy %(name)s created.", name=policy.name), "success")
            return redirect(url_for("sla.policies"))
    return _render_policy(form, None)


@bp.route("/policies/<int:policy_id>", methods=["GET", "POST"])
@admin_required
def policy_edit(policy_id: int):
    policy = sla.get_policy(policy_id)
    form = _policy_form(policy)
    if form.validate_on_submit():
        try:
            sla.update_policy(_actor(), policy.id, active=form.active.data, **_policy_fields(form))
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(
                _(
                    "Changes saved. New tickets use them; recompute open tickets to apply them there too."
                ),
                "success",
            )
            return redirect(url_for("sla.policies"))
    return _render_policy(form, policy)


def _render_policy(form: PolicyForm, policy: Policy | None):
    return render_template(
        "sla/policy_form.html", form=form, policy=policy, priorities=list(Priority),
        priority_labels=PRIORITY_LABELS,
    ), (400 if form.errors else 200)  # fmt: skip


@bp.route("/policies/<int:policy_id>/move", methods=["POST"])
@admin_required
def policy_move(policy_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    sla.move_policy(_actor(), policy_id, -1 if request.form.get("direction") == "up" else 1)
    return redirect(url_for("sla.policies"))


@bp.route("/recompute", methods=["POST"])
@admin_required
def recompute():
    if not EmptyForm().validate_on_submit():
        abort(400)
    from helpdesk.sla.tasks import recompute_open

    record("sla.recompute_requested", actor=_actor())
    enqueue_after_commit(recompute_open, 0)
    flash(_("Open tickets are being recomputed in the background."), "success")
    return redirect(url_for("sla.policies"))
