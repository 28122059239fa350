"""Ticket pages. Thin: parse the form, call a service, answer (the boundary commits)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.datastructures import FileStorage

from helpdesk.attachments.services import Upload, ticket_attachments
from helpdesk.errors import InvalidInput
from helpdesk.inputs import id_arg
from helpdesk.tickets import permissions as perm
from helpdesk.tickets import services
from helpdesk.tickets.forms import (
    STATUS_CHOICES,
    AssignForm,
    CategoryChangeForm,
    CommentForm,
    EmptyForm,
    PriorityForm,
    StatusForm,
    TicketForm,
)
from helpdesk.users.services import technicians
from helpdesk.web import current_actor as _actor
from helpdesk.web import form_error

bp = Blueprint("tickets", __name__, url_prefix="/tickets")


def _uploads(files: list[FileStorage]) -> list[Upload]:
    return [Upload(f.filename or "", f.stream) for f in files if f and f.filename]


@bp.route("")
@login_required
def index():
    actor = _actor()
    filters = services.parse_filters(request.args)
    page = services.list_tickets(actor, filters, cursor=request.args.get("cursor") or None)
    return render_template(
        "tickets/list.html",
        page=page,
        filters=filters,
        categories=services.list_categories(active_only=False),
        staff=technicians() if actor.is_staff else [],
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = TicketForm()
    categories = services.list_categories()
    form.category_id.choices = [(c.id, c.name) for c in categories]
    if not categories:
        flash(_("There are no categories yet; an administrator must create one first."), "warning")
    if form.validate_on_submit():
        try:
            ticket = services.create_ticket(
                _actor(),
                title=form.title.data,
                description=form.description.data,
                category_id=form.category_id.data,
                priority=form.priority.data,
                uploads=_uploads(request.files.getlist("attachments")),
            )
        except InvalidInput as exc:
            form_error(form, exc)
        else:
            flash(_("Ticket %(number)s created.", number=ticket.number), "success")
            return redirect(url_for("tickets.detail", ticket_id=ticket.id))
    status = 400 if request.method == "POST" else 200
    return render_template("tickets/new.html", form=form), status


@bp.route("/<int:ticket_id>")
@login_required
def detail(ticket_id: int):
    actor = _actor()
    ticket = services.get_ticket(actor, ticket_id)
    return _render_detail(ticket, CommentForm())


def _render_detail(ticket, comment_form, status: int = 200):
    actor = _actor()
    attachments = ticket_attachments(actor, ticket)
    status_form = StatusForm()
    allowed = {s.value for s in perm.allowed_statuses(actor, ticket)}
    status_form.status.choices = [c for c in STATUS_CHOICES if c[0] in allowed]
    priority_form = PriorityForm(priority=ticket.priority.value)
    assign_form = AssignForm(assignee_id=str(ticket.assignee_id or ""))
    category_form = CategoryChangeForm(category_id=ticket.category_id)
    if perm.can_assign(actor, ticket):
        assign_form.assignee_id.choices = [("", _("Unassigned"))] + [
            (str(u.id), u.display_name) for u in technicians()
        ]
    if perm.can_edit_category(actor, ticket):
        category_form.category_id.choices = [(c.id, c.name) for c in services.list_categories()]
    return render_template(
        "tickets/detail.html",
        ticket=ticket,
        events=services.timeline(actor, ticket),
        attachments={a.id: a for a in attachments},
        attachment_list=attachments,
        comment_form=comment_form,
        status_form=status_form,
        priority_form=priority_form,
        assign_form=assign_form,
        category_form=category_form,
        action_form=EmptyForm(),
    ), status


@bp.route("/<int:ticket_id>/comments", methods=["POST"])
@login_required
def comment(ticket_id: int):
    actor = _actor()
    ticket = services.get_ticket(actor, ticket_id)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            services.add_comment(
                actor,
                ticket,
                form.body.data,
                internal=bool(form.internal.data),
                uploads=_uploads(request.files.getlist("attachments")),
            )
        except InvalidInput as exc:
            form_error(form, exc)
        else:
            flash(
                _("Internal note added.") if form.internal.data else _("Comment added."), "success"
            )
            return redirect(url_for("tickets.detail", ticket_id=ticket_id) + "#timeline-end")
    return _render_detail(ticket, form, 400)


def _simple_action(ticket_id: int, form_cls, apply, message: str):
    actor = _actor()
    ticket = services.get_ticket(actor, ticket_id)
    form = form_cls()
    if not form.validate_on_submit():
        abort(400)
    apply(actor, ticket, form)
    flash(message, "success")
    return redirect(url_for("tickets.detail", ticket_id=ticket_id))


@bp.route("/<int:ticket_id>/take", methods=["POST"])
@login_required
def take(ticket_id: int):
    return _simple_action(
        ticket_id,
        EmptyForm,
        lambda a, t, f: services.take_ticket(a, t),
        _("You are now working on this ticket."),
    )


@bp.route("/<int:ticket_id>/status", methods=["POST"])
@login_required
def status(ticket_id: int):
    return _simple_action(
        ticket_id,
        StatusForm,
        lambda a, t, f: services.change_status(a, t, f.status.data or ""),
        _("Status updated."),
    )


@bp.route("/<int:ticket_id>/priority", methods=["POST"])
@login_required
def priority(ticket_id: int):
    return _simple_action(
        ticket_id,
        PriorityForm,
        lambda a, t, f: services.change_priority(a, t, f.priority.data or ""),
        _("Priority updated."),
    )


@bp.route("/<int:ticket_id>/category", methods=["POST"])
@login_required
def category(ticket_id: int):
    return _simple_action(
        ticket_id,
        CategoryChangeForm,
        lambda a, t, f: services.change_category(a, t, f.category_id.data),
        _("Category updated."),
    )


@bp.route("/<int:ticket_id>/assign", methods=["POST"])
@login_required
def assign(ticket_id: int):
    def apply(actor, ticket, form):
        raw = form.assignee_id.data or ""
        try:
            assignee_id = id_arg(raw) if raw else None
        except ValueError:
            raise InvalidInput("Choose a technician from the list.", field="assignee_id") from None
        services.assign_ticket(actor, ticket, assignee_id)

    return _simple_action(ticket_id, AssignForm, apply, _("Assignee updated."))
