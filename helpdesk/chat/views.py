"""The chat page, history pages (JSON) and a no-JavaScript send."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from helpdesk.chat import services
from helpdesk.chat.forms import MessageForm, StartChatForm
from helpdesk.errors import InvalidInput, TooManyRequests
from helpdesk.inputs import id_arg
from helpdesk.realtime import rooms
from helpdesk.realtime.state import get_state
from helpdesk.web import current_actor as _actor
from helpdesk.web import form_error

bp = Blueprint("chat", __name__, url_prefix="/chat")


@bp.route("")
@login_required
def index():
    return _render(None)


@bp.route("/<int:conversation_id>")
@login_required
def conversation(conversation_id: int):
    # GET changes nothing: the page's socket marks the messages read (chat:open)
    # once they are really on screen.
    return _render(services.get_conversation(_actor(), conversation_id))


def _render(conv, form: MessageForm | None = None, status: int = 200):
    actor = _actor()
    rows = services.conversations_for(actor)
    page = services.history(actor, conv) if conv else None
    return render_template(
        "chat/index.html",
        rows=rows,
        conv=conv,
        other=conv.other(actor) if conv else None,
        page=page,
        seen_upto=services.seen_upto(conv, actor) if conv else 0,
        contacts=services.support_contacts(actor),
        form=form or MessageForm(),
        start_form=StartChatForm(),
        render_text=services.render_text,
        message_max=services.message_max(),
    ), status


@bp.route("/start", methods=["POST"])
@login_required
def start():
    form = StartChatForm()
    if not form.validate_on_submit():
        abort(400)
    actor = _actor()
    other = services.get_user_to_chat(actor, form.user_id.data)
    conv = services.start_conversation(actor, other)
    return redirect(url_for("chat.conversation", conversation_id=conv.id))


@bp.route("/<int:conversation_id>/messages")
@login_required
def messages(conversation_id: int):
    """Older messages as JSON, for scrolling up (keyset on id)."""
    actor = _actor()
    conv = services.get_conversation(actor, conversation_id)
    before = request.args.get("before", type=id_arg)
    page = services.history(actor, conv, before=before)
    senders = {conv.low_user_id: conv.low_user, conv.high_user_id: conv.high_user}
    return jsonify(
        messages=[services.message_payload(m, senders[m.sender_id]) for m in page.messages],
        has_more=page.has_more,
        seen_upto=services.seen_upto(conv, actor),
    )


@bp.route("/<int:conversation_id>/messages", methods=["POST"])
@login_required
def send(conversation_id: int):
    """Without JavaScript (or a socket) the composer still works as a form."""
    actor = _actor()
    conv = services.get_conversation(actor, conversation_id)
    form = MessageForm()
    if not form.validate_on_submit():
        flash(_("Write a message first."), "warning")
        return redirect(url_for("chat.conversation", conversation_id=conv.id))
    other = conv.other(actor)
    try:
        viewers = get_state().presence.viewers(rooms.conversation(conv.id))
    except Exception:
        viewers = set()
    try:
        services.send_message(actor, conv, form.body.data, notify=other.id not in viewers)
    except (InvalidInput, TooManyRequests) as exc:
        form_error(form, exc)
        page, status = _render(conv, form, exc.status_code)
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else {}
        return page, status, headers
    return redirect(url_for("chat.conversation", conversation_id=conversation_id) + "#composer")
