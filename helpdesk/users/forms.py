"""Profile forms: shape only; the rules live in users/services.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import Length, Optional

LOCALE_CHOICES = [
    ("", _l("Same as the browser")),
    ("es", "Español"),
    ("en", "English"),
]
THEME_CHOICES = [
    ("", _l("Same as the system")),
    ("light", _l("Light")),
    ("dark", _l("Dark")),
]


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=120)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    locale = SelectField(_l("Language"), choices=LOCALE_CHOICES)
    theme = SelectField(_l("Theme"), choices=THEME_CHOICES)
