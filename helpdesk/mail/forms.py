"""Forms for the mail settings (shape only; the services check the rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

SECURITY_CHOICES = [
    ("tls", _l("TLS (implicit, e.g. 993 / 465)")),
    ("starttls", _l("STARTTLS (e.g. 143 / 587)")),
    ("plain", _l("None (only on the same machine)")),
]
_PASSWORD_HELP = _l("Stored encrypted and never shown. Leave empty to keep the current one.")


class RelayForm(FlaskForm):
    host = StringField(_l("SMTP server"), validators=[DataRequired(), Length(max=255)])
    port = IntegerField(_l("Port"), default=587, validators=[DataRequired(), NumberRange(1, 65535)])
    security = SelectField(_l("Security"), choices=SECURITY_CHOICES, default="starttls")
    username = StringField(_l("User name"), validators=[Optional(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=255)],
                             description=_PASSWORD_HELP)  # fmt: skip
    from_address = StringField(_l("Sender address"), validators=[DataRequired(), Length(max=254)],
                               description=_l("The desk's address, e.g. soporte@empresa.com."))  # fmt: skip


class MailboxForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    address = StringField(_l("Address customers write to"), validators=[DataRequired(), Length(max=254)])  # fmt: skip
    host = StringField(_l("IMAP server"), validators=[DataRequired(), Length(max=255)])
    port = IntegerField(_l("Port"), default=993, validators=[DataRequired(), NumberRange(1, 65535)])
    security = SelectField(_l("Security"), choices=SECURITY_CHOICES, default="tls")
    username = StringField(_l("User name"), validators=[Optional(), Length(max=255)])
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=255)],
                             description=_PASSWORD_HELP)  # fmt: skip
    folder = StringField(_l("Folder"), default="INBOX", validators=[Optional(), Length(max=255)])
    category_id = SelectField(_l("Category for new tickets"), coerce=int, choices=[])
    active = BooleanField(_l("Fetch this mailbox"), default=True)


class PreferencesForm(FlaskForm):
    created = BooleanField(_l("A receipt when a ticket of mine is created"))
    reply = BooleanField(_l("Public replies on my tickets and the ones I work on"))
    status = BooleanField(_l("My ticket is resolved or closed"))
    assigned = BooleanField(_l("A ticket is assigned to me"))
    queue = BooleanField(_l("A new ticket waits in the unassigned queue (technicians)"))
