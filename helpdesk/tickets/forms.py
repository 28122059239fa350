"""Ticket forms: shape only; the rules live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, MultipleFileField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from helpdesk.tickets.labels import PRIORITY_CHOICES, STATUS_CHOICES
from helpdesk.tickets.services import TITLE_MAX


class TicketForm(FlaskForm):
    title_max = TITLE_MAX  # the template's live counter
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(),
            Length(
                max=TITLE_MAX,
                message=_l(
                    "The title may have at most %(max)d characters; this one has %(length)d."
                ),
            ),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(), Length(max=20000)],
        description=_l("Markdown is supported: **bold**, _italic_, lists, `code`, links."),
    )
    category_id = SelectField(_l("Category"), coerce=int, validators=[DataRequired()])
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES, default="medium")
    attachments = MultipleFileField(_l("Attachments"), validators=[Optional()])


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=20000)])
    internal = BooleanField(_l("Internal note (staff only)"))
    attachments = MultipleFileField(_l("Attachments"), validators=[Optional()])


# The one-field change forms render the ticket page's selects and read their POSTs.
# Shape only: the value passes to the service as sent (validate_choice=False), and the
# service answers an unknown or forbidden one with its own message.


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=STATUS_CHOICES, validate_choice=False)


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), choices=PRIORITY_CHOICES, validate_choice=False)


class AssignForm(FlaskForm):
    assignee_id = SelectField(_l("Assignee"), coerce=str, validate_choice=False)


class CategoryChangeForm(FlaskForm):
    category_id = SelectField(_l("Category"), coerce=str, validate_choice=False)


class EmptyForm(FlaskForm):
    """Just the CSRF token, for one-button actions."""
