"""Report filter form: shape only (GET, no CSRF); `tickets.services.parse_filters` decides."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional, ValidationError


class DateRangeForm(FlaskForm):
    """The date range added to the ticket list's filters on the reports page."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    created_from = DateField(_l("Created from"), validators=[Optional()])
    created_to = DateField(
        _l("Created before"),
        validators=[Optional()],
        description=_l("The day itself is not included."),
    )

    def validate_created_to(self, field: DateField) -> None:
        if field.data and self.created_from.data and field.data <= self.created_from.data:
            raise ValidationError(_l("The end of the range must come after its start."))
