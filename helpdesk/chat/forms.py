from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, NumberRange


class StartChatForm(FlaskForm):
    """Open (or create) the conversation with one person: one click from a ticket."""

    user_id = IntegerField(_l("Person"), validators=[DataRequired(), NumberRange(min=1)])


class MessageForm(FlaskForm):
    """The composer; without JavaScript it posts like any form."""

    body = TextAreaField(_l("Message"), validators=[DataRequired()])
