"""Branding form: shape only (the service checks the colour, name and logo)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length


class BrandingForm(FlaskForm):
    name = StringField(_l("Desk name"), validators=[DataRequired(), Length(max=80)])
    color = StringField(
        _l("Main colour"),
        validators=[DataRequired(), Length(max=7)],
        description=_l("Buttons, links and the e-mails use it; white text must be readable on it."),
    )
    logo = FileField(
        _l("Logo"), description=_l("PNG or JPEG, up to 512 KB; shown in the navigation bar.")
    )
    remove_logo = BooleanField(_l("Remove the logo"))
