from __future__ import annotations

from flask_wtf import FlaskForm


class MarkReadForm(FlaskForm):
    """CSRF only: mark one or all notifications read."""
