"""Mail pages: the admin's mailboxes, relay, outbox and quarantine; a person's
mail preferences; the staff-only originals."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from helpdesk.errors import HelpdeskError
from helpdesk.mail import fetch, mailboxes, outbox
from helpdesk.mail.forms import MailboxForm, PreferencesForm, RelayForm
from helpdesk.mail.permissions import can_manage_mail
from helpdesk.mail.services import stored_path
from helpdesk.tickets import services as tickets
from helpdesk.tickets.forms import EmptyForm
from helpdesk.web import current_actor as _actor
from helpdesk.web import form_error

bp = Blueprint("mail", __name__)


def _require_admin() -> None:
    if not current_user.is_authenticated:
        abort(401)
    if not can_manage_mail(current_user):
        abort(403)


@bp.route("/admin/mail", methods=["GET"])
@login_required
def index():
    _require_admin()
    relay = mailboxes.get_relay()
    form = RelayForm(obj=relay)
    form.security.data = relay.security.value
    return _index(form)


def _index(form: RelayForm, status: int = 200):
    actor = _actor()
    return render_template(
        "mail/admin.html",
        form=form,
        mailboxes=mailboxes.list_mailboxes(actor),
        outbox=mailboxes.list_outbox(actor, status=request.args.get("status", "")),
        quarantine=mailboxes.list_quarantine(actor, limit=50),
        messages=mailboxes.recent_messages(actor, limit=50),
        action_form=EmptyForm(),
    ), status


@bp.route("/admin/mail/relay", methods=["POST"])
@login_required
def relay_save():
    _require_admin()
    form = RelayForm()
    if form.validate_on_submit():
        try:
            mailboxes.save_relay(
                _actor(),
                host=form.host.data or "",
                port=form.port.data,
                security=form.security.data,
                username=form.username.data or "",
                password=form.password.data or "",
                from_address=form.from_address.data or "",
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("The SMTP relay has been saved."), "success")
            return redirect(url_for("mail.index"))
    return _index(form, 400)


@bp.route("/admin/mail/relay/test", methods=["POST"])
@login_required
def relay_test():
    _require_admin()
    if not EmptyForm().validate_on_submit():
        abort(400)
    problem = outbox.check_relay()
    if problem:
        flash(_("The SMTP relay did not answer: %(problem)s", problem=problem), "danger")
    else:
        flash(_("The SMTP relay accepted the connection."), "success")
    return redirect(url_for("mail.index"))


def _category_choices() -> list[tuple[int, str]]:
    return [(0, _("The first active category"))] + [
        (c.id, c.name) for c in tickets.list_categories(active_only=True)
    ]


@bp.route("/admin/mail/mailboxes/new", methods=["GET", "POST"])
@bp.route("/admin/mail/mailboxes/<int:mailbox_id>", methods=["GET", "POST"])
@login_required
def mailbox_edit(mailbox_id: int | None = None):
    _require_admin()
    mailbox = mailboxes.get_mailbox(mailbox_id) if mailbox_id else None
    form = MailboxForm(obj=mailbox if request.method == "GET" else None)
    form.category_id.choices = _category_choices()
    if request.method == "GET" and mailbox is not None:
        form.security.data = mailbox.security.value
        form.category_id.data = mailbox.category_id or 0
    if form.validate_on_submit():
        try:
            saved = mailboxes.save_mailbox(
                _actor(),
                mailbox_id,
                name=form.name.data or "",
                address=form.address.data or "",
                host=form.host.data or "",
                port=form.port.data,
                security=form.security.data,
                username=form.username.data or "",
                password=form.password.data or "",
                folder=form.folder.data or "INBOX",
                category_id=form.category_id.data or None,
                active=bool(form.active.data),
            )
        except HelpdeskError as exc:
            form_error(form, exc)
        else:
            flash(_("Mailbox %(name)s saved.", name=saved.name), "success")
            return redirect(url_for("mail.index"))
    status = 400 if form.errors else 200
    return render_template("mail/mailbox_form.html", form=form, mailbox=mailbox), status


@bp.route("/admin/mail/mailboxes/<int:mailbox_id>/delete", methods=["POST"])
@login_required
def mailbox_delete(mailbox_id: int):
    _require_admin()
    if not EmptyForm().validate_on_submit():
        abort(400)
    mailboxes.delete_mailbox(_actor(), mailbox_id)
    flash(_("The mailbox has been deleted."), "success")
    return redirect(url_for("mail.index"))


@bp.route("/admin/mail/mailboxes/<int:mailbox_id>/test", methods=["POST"])
@login_required
def mailbox_test(mailbox_id: int):
    _require_admin()
    if not EmptyForm().validate_on_submit():
        abort(400)
    mailbox = mailboxes.get_mailbox(mailbox_id)
    try:
        problem = fetch.check_connection(mailbox)
    except HelpdeskError as exc:  # the stored password cannot be read
        problem = exc.message
    if problem:
        flash(_("The mailbox could not be opened: %(problem)s", problem=problem), "danger")
    else:
        flash(_("The mailbox %(name)s can be read.", name=mailbox.name), "success")
    return redirect(url_for("mail.index"))


@bp.route("/admin/mail/outbox/<int:outbox_id>/retry", methods=["POST"])
@login_required
def outbox_retry(outbox_id: int):
    _require_admin()
    if not EmptyForm().validate_on_submit():
        abort(400)
    mailboxes.retry_outbox(_actor(), outbox_id)
    flash(_("The message will be sent again."), "success")
    return redirect(url_for("mail.index", _anchor="outbox"))


def _eml(stored_name: str, download_name: str):
    path = stored_path(stored_name)
    if not path.is_file():
        abort(404)
    return send_file(
        path, mimetype="message/rfc822", as_attachment=True, download_name=download_name
    )


@bp.route("/admin/mail/quarantine/<int:quarantine_id>.eml")
@login_required
def quarantine_download(quarantine_id: int):
    _require_admin()
    row = mailboxes.get_quarantined(_actor(), quarantine_id)
    return _eml(row.stored_name, f"quarantine-{row.id}.eml")


@bp.route("/mail/messages/<int:message_id>.eml")
@login_required
def original(message_id: int):
    message = mailboxes.get_original(_actor(), message_id)
    assert message.stored_name is not None
    return _eml(message.stored_name, f"message-{message.id}.eml")


@bp.route("/account/mail", methods=["GET", "POST"])
@login_required
def preferences():
    actor = _actor()
    current = outbox.preferences(actor)
    form = PreferencesForm(obj=current if request.method == "GET" else None)
    if form.validate_on_submit():
        mailboxes.save_preferences(
            actor, {name: bool(getattr(form, name).data) for name in mailboxes.PREFERENCE_FIELDS}
        )
        flash(_("Your mail preferences have been saved."), "success")
        return redirect(url_for("mail.preferences"))
    return render_template("mail/preferences.html", form=form), (400 if form.errors else 200)
