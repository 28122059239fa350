"""The one commit of a unit of work, for every entry point that is not a view.

CLI commands, background tasks and the mail ingester run their work inside
`unit_of_work()`: services flush, this commits once on success and rolls back on
any error (then re-raises), so after-commit side effects run only for stored data.
The HTTP views get the same rule through their own boundary decorator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from helpdesk.extensions import db


@contextmanager
def unit_of_work() -> Iterator[None]:
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
