"""Forms of the service-level admin pages: shape only; the services check the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from helpdesk.tickets.models import Priority

WEEKDAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
HOURS_HELP = _l(
    "Ranges such as 09:00-13:00, 15:00-18:00; 22:00-06:00 runs overnight; empty: closed."
)


class CalendarForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    zone = StringField(
        _l("Time zone"),
        validators=[DataRequired(), Length(max=64)],
        default="Europe/Madrid",
        description=_l("An IANA name such as Europe/Madrid or America/Santiago."),
    )
    mon = StringField(WEEKDAY_LABELS[0], validators=[Optional(), Length(max=120)])
    tue = StringField(WEEKDAY_LABELS[1], validators=[Optional(), Length(max=120)])
    wed = StringField(WEEKDAY_LABELS[2], validators=[Optional(), Length(max=120)])
    thu = StringField(WEEKDAY_LABELS[3], validators=[Optional(), Length(max=120)])
    fri = StringField(WEEKDAY_LABELS[4], validators=[Optional(), Length(max=120)])
    sat = StringField(WEEKDAY_LABELS[5], validators=[Optional(), Length(max=120)])
    sun = StringField(WEEKDAY_LABELS[6], validators=[Optional(), Length(max=120)])

    def hours(self) -> dict[int, str]:
        days = (self.mon, self.tue, self.wed, self.thu, self.fri, self.sat, self.sun)
        return {i: (f.data or "") for i, f in enumerate(days)}


class HolidayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    yearly = BooleanField(_l("Every year"))


class PrefillForm(FlaskForm):
    country = SelectField(_l("Country"), validators=[DataRequired()])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(1970, 2100)])


class PolicyForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    calendar_id = SelectField(_l("Calendar"), coerce=int, validators=[DataRequired()])
    category_ids = SelectMultipleField(
        _l("Only for these categories"),
        coerce=int,
        validators=[Optional()],
        description=_l("None chosen: every category."),
    )
    pause_when_waiting = BooleanField(_l("Pause the clocks while waiting"), default=True)
    warn_percent = IntegerField(
        _l("Warn when this percentage of a target has passed"),
        default=80,
        validators=[DataRequired(), NumberRange(1, 99)],
    )
    notify_admins = BooleanField(_l("Also notify administrators"))
    active = BooleanField(_l("Active"), default=True)


# Per priority: first response and resolution in business minutes (empty: no promise).
for _p in Priority:
    setattr(
        PolicyForm,
        f"{_p.value}_first_response",
        IntegerField(validators=[Optional(), NumberRange(1, 366 * 24 * 60)]),
    )
    setattr(
        PolicyForm,
        f"{_p.value}_resolution",
        IntegerField(validators=[Optional(), NumberRange(1, 366 * 24 * 60)]),
    )
